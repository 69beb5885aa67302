/** Batched sampling with a KV cache: each prompt is run through the model once (prefill), its
 * cached keys and values are copied to its `n` sample slots, then every unfinished sequence
 * advances one token per step. Each sequence draws from its own random stream, seeded by
 * (seed, prompt index, sample index), so results do not depend on the batch size. */
import { ContextLengthError } from './config.js';
import { type Gpt, copyKvSlot, decodeStep, prefill, prepareDecode, reserveKvCache } from './model.js';
import type { CharTokenizer } from './tokenizer.js';
import { createRng, type Rng } from '../util/random.js';

export interface SampleOptions {
  /** Samples per prompt (default 1). */
  n?: number;
  /** Softmax temperature; 0 picks the most likely token (greedy, default 1). */
  temperature?: number;
  /** Keep only the k most likely tokens; 0 keeps all (default 0). */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p (default 1: all). */
  topP?: number;
  /** Most tokens generated per sample, EOS not counted (default: the context length). */
  maxTokens?: number;
  /** Generation ends at the first of these strings; the text stops before it. */
  stop?: readonly string[];
  /** Seed of the sampling streams (default 0). */
  seed?: number;
  /** Sequences decoded together (default 64); bounds the KV cache memory. */
  batchSize?: number;
  /** A prompt longer than the context: throw (default) or drop its oldest characters. */
  truncatePrompt?: 'error' | 'left';
}

export type FinishReason = 'eos' | 'stop' | 'length';

export interface Completion {
  /** Generated text (without EOS, cut before a stop string). */
  text: string;
  /** Generated token ids behind `text`. */
  tokens: number[];
  /** Log-probability of each token in `tokens` under the model (temperature 1, no top-k/top-p). */
  logprobs: number[];
  /** `eos`: the model ended; `stop`: a stop string; `length`: maxTokens or the context is full. */
  finishReason: FinishReason;
}

interface Sequence {
  prompt: number;
  slot: number;
  rng: Rng;
  /** Position the next fed token goes to. */
  nextPos: number;
  tokens: number[];
  logprobs: number[];
  /** Text length after each token (to cut tokens at a stop string). */
  ends: number[];
  text: string;
  finish: FinishReason | null;
}

/** A 32-bit seed for sample j of prompt i. */
function streamSeed(seed: number, prompt: number, sample: number): number {
  let h = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ (prompt + 1), 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16) ^ (sample + 1), 0x27d4eb2f);
  return (h ^ (h >>> 15)) >>> 0;
}

function checkOptions(o: SampleOptions, ctx: number): Required<Omit<SampleOptions, 'stop'>> & { stop: string[] } {
  const int = (name: string, v: number, min: number): number => {
    if (!Number.isSafeInteger(v) || v < min) throw new RangeError(`sample: ${name} must be an integer ≥ ${min} (got ${v})`);
    return v;
  };
  const temperature = o.temperature ?? 1;
  if (!(temperature >= 0 && Number.isFinite(temperature))) throw new RangeError(`sample: temperature must be ≥ 0 (got ${temperature})`);
  const topP = o.topP ?? 1;
  if (!(topP > 0 && topP <= 1)) throw new RangeError(`sample: topP must be in (0, 1] (got ${topP})`);
  const stop = [...(o.stop ?? [])];
  if (stop.some((s) => typeof s !== 'string' || s.length === 0)) throw new RangeError('sample: stop strings must be non-empty');
  const truncatePrompt = o.truncatePrompt ?? 'error';
  if (truncatePrompt !== 'error' && truncatePrompt !== 'left') throw new RangeError(`sample: truncatePrompt must be 'error' or 'left'`);
  return {
    n: int('n', o.n ?? 1, 1),
    temperature,
    topK: int('topK', o.topK ?? 0, 0),
    topP,
    maxTokens: int('maxTokens', o.maxTokens ?? ctx, 0),
    stop,
    seed: o.seed ?? 0,
    batchSize: int('batchSize', o.batchSize ?? 64, 1),
    truncatePrompt,
  };
}

/** Sample `n` completions for each prompt. Returns results[prompt][sample]. */
export function sample(model: Gpt, tokenizer: CharTokenizer, prompts: readonly string[], options: SampleOptions = {}): Completion[][] {
  const { vocabSize: V, contextLength: ctx } = model.config;
  if (tokenizer.vocabSize !== V) throw new RangeError(`tokenizer has ${tokenizer.vocabSize} tokens but the model's vocabulary is ${V}`);
  const o = checkOptions(options, ctx);
  const encoded = prompts.map((p, i) => {
    const ids = tokenizer.encode(p);
    if (ids.length + 1 > ctx) {
      if (o.truncatePrompt === 'left') return [tokenizer.bos, ...ids.slice(ids.length - (ctx - 1))];
      throw new ContextLengthError(`prompt ${i} needs ${ids.length + 1} tokens (BOS + ${ids.length} characters), `
        + `more than the context length ${ctx}`);
    }
    return [tokenizer.bos, ...ids];
  });
  const results: Completion[][] = prompts.map(() => []);
  const total = prompts.length * o.n;
  if (total === 0) return results;
  if (o.maxTokens === 0) {
    for (const r of results) for (let j = 0; j < o.n; j++) r.push({ text: '', tokens: [], logprobs: [], finishReason: 'length' });
    return results;
  }
  const pick = createPicker(V, o.temperature, o.topK, o.topP);
  reserveKvCache(model, Math.min(o.batchSize, total));
  // Weights packed once for the fused decoding step, when the backend has one.
  const session = prepareDecode(model);

  for (let start = 0; start < total; start += o.batchSize) {
    const seqs: Sequence[] = [];
    for (let s = start; s < Math.min(total, start + o.batchSize); s++) {
      const prompt = Math.floor(s / o.n);
      seqs.push({
        prompt, slot: s - start, rng: createRng(streamSeed(o.seed, prompt, s % o.n)), nextPos: encoded[prompt]!.length,
        tokens: [], logprobs: [], ends: [], text: '', finish: null,
      });
    }
    // Prefill each distinct prompt of this chunk once, grouped by length (one forward per length).
    const byPrompt = groupBy(seqs, (q) => q.prompt);
    const byLength = groupBy([...byPrompt.keys()], (p) => encoded[p]!.length);
    for (const [T, group] of byLength) {
      const B = group.length;
      const tokens = new Int32Array(B * T);
      group.forEach((p, b) => tokens.set(encoded[p]!, b * T));
      const firstSlots = group.map((p) => byPrompt.get(p)![0]!.slot);
      const logits = prefill(model, tokens, B, T, firstSlots);
      group.forEach((p, b) => {
        const row = logits.subarray((b * T + T - 1) * V, (b * T + T) * V);
        for (const q of byPrompt.get(p)!) {
          if (q.slot !== firstSlots[b]) copyKvSlot(model, firstSlots[b]!, q.slot, T);
          advance(q, row, pick, tokenizer, o.stop, o.maxTokens, ctx);
        }
      });
    }
    // Decode: one token per unfinished sequence per step.
    for (;;) {
      const active = seqs.filter((q) => q.finish === null);
      if (active.length === 0) break;
      const logits = decodeStep(model, active.map((q) => q.slot), active.map((q) => q.tokens[q.tokens.length - 1]!),
        active.map((q) => q.nextPos++), session);
      active.forEach((q, i) => advance(q, logits.subarray(i * V, (i + 1) * V), pick, tokenizer, o.stop, o.maxTokens, ctx));
    }
    for (const q of seqs) {
      results[q.prompt]!.push({ text: q.text, tokens: q.tokens, logprobs: q.logprobs, finishReason: q.finish! });
    }
  }
  return results;
}

function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/** Choose the next token of `q` from its logits row and record it; mark the sequence finished when
 * it ends (EOS, stop string, token limit, full context). */
function advance(q: Sequence, logits: Float32Array, pick: Picker, tokenizer: CharTokenizer, stop: readonly string[],
  maxTokens: number, ctx: number): void {
  const tok = pick(logits, q.rng);
  if (tok === tokenizer.eos) {
    q.finish = 'eos';
    return;
  }
  const before = q.text.length;
  q.tokens.push(tok);
  // The picker's normaliser when it drew at temperature 1: the same max and sum logProb computes.
  q.logprobs.push(pick.logZ === null ? logProb(logits, tok) : logits[tok]! - pick.logZ.max - Math.log(pick.logZ.sum));
  q.text += tokenizer.piece(tok);
  q.ends.push(q.text.length);
  // Earliest stop string that the new text completes (it must end inside the new piece).
  let cut = -1;
  for (const s of stop) {
    const at = q.text.indexOf(s, Math.max(0, before - s.length + 1));
    if (at >= 0 && (cut < 0 || at < cut)) cut = at;
  }
  if (cut >= 0) {
    q.text = q.text.slice(0, cut);
    let keep = 0;
    while (keep < q.ends.length && q.ends[keep]! <= cut) keep++;
    q.tokens.length = keep;
    q.logprobs.length = keep;
    q.ends.length = keep;
    q.finish = 'stop';
  } else if (q.tokens.length >= maxTokens || q.nextPos >= ctx) {
    q.finish = 'length';
  }
}

/** log softmax(logits)[tok], in float64. */
export function logProb(logits: ArrayLike<number>, tok: number): number {
  let max = -Infinity;
  for (let v = 0; v < logits.length; v++) if (logits[v]! > max) max = logits[v]!;
  let sum = 0;
  for (let v = 0; v < logits.length; v++) sum += Math.exp(logits[v]! - max);
  return logits[tok]! - max - Math.log(sum);
}

interface Picker {
  (logits: Float32Array, rng: Rng): number;
  /** After a call at temperature 1: max and Σexp(logit − max) over the whole vocabulary, exactly
   * as logProb computes them (so it need not repeat the pass); null otherwise. */
  logZ: { max: number; sum: number } | null;
}

/** The token choice rule: greedy for temperature 0, otherwise a draw from the tempered softmax
 * restricted to the top-k tokens and then to the top-p nucleus. Scratch arrays are reused. */
function createPicker(V: number, temperature: number, topK: number, topP: number): Picker {
  const probs = new Float64Array(V);
  const order = Array.from({ length: V }, (_, i) => i);
  if (temperature === 0) {
    return Object.assign((logits: Float32Array) => {
      let best = 0;
      for (let v = 1; v < V; v++) if (logits[v]! > logits[best]!) best = v;
      return best;
    }, { logZ: null });
  }
  const logZ = temperature === 1 ? { max: 0, sum: 0 } : null;
  const pick = (logits: Float32Array, rng: Rng): number => {
    let max = -Infinity;
    for (let v = 0; v < V; v++) if (logits[v]! > max) max = logits[v]!;
    let sum = 0;
    for (let v = 0; v < V; v++) {
      probs[v] = Math.exp((logits[v]! - max) / temperature);
      sum += probs[v]!;
    }
    if (logZ) {
      logZ.max = max;
      logZ.sum = sum;
    }
    let count = V;
    if ((topK > 0 && topK < V) || topP < 1) {
      // Most likely first; ties by id so the order is deterministic.
      for (let v = 0; v < V; v++) order[v] = v;
      order.sort((a, b) => probs[b]! - probs[a]! || a - b);
      if (topK > 0 && topK < V) count = topK;
      let kept = 0;
      for (let i = 0; i < count; i++) kept += probs[order[i]!]!;
      if (topP < 1) {
        let cum = 0;
        for (let i = 0; i < count; i++) {
          cum += probs[order[i]!]!;
          if (cum >= topP * kept) {
            count = i + 1;
            break;
          }
        }
      }
      sum = 0;
      for (let i = 0; i < count; i++) sum += probs[order[i]!]!;
      let r = rng.next() * sum;
      for (let i = 0; i < count; i++) {
        r -= probs[order[i]!]!;
        if (r < 0) return order[i]!;
      }
      return order[0]!; // only reachable through rounding
    }
    let r = rng.next() * sum;
    let last = 0;
    for (let v = 0; v < V; v++) {
      if (probs[v]! > 0) last = v;
      r -= probs[v]!;
      if (r < 0) return v;
    }
    return last; // only reachable through rounding
  };
  return Object.assign(pick, { logZ });
}
