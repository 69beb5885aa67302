import { describe, expect, it } from 'vitest';
import { ContextLengthError, makeConfig } from '../../src/engine/config.js';
import { type Gpt, createGpt, forwardLogits } from '../../src/engine/model.js';
import { type Completion, logProb, sample } from '../../src/engine/sample.js';
import { createCharTokenizer } from '../../src/engine/tokenizer.js';
import { createRng } from '../../src/util/random.js';

const tok = createCharTokenizer();
const config = makeConfig({ vocabSize: tok.vocabSize, contextLength: 24, dModel: 32, nLayer: 2, nHead: 4, dMlp: 64 });

/** A model with large random weights: peaked, position-dependent distributions (clear argmaxes),
 * with EOS made unlikely so generations run long. */
function peakedModel(seed: number): Gpt {
  const model = createGpt(config, { seed });
  const rng = createRng(seed + 100);
  for (const t of model.tensors) {
    if (!t.decay) continue;
    const view = model.params.subarray(t.offset, t.offset + t.size);
    for (let i = 0; i < view.length; i++) view[i] = 0.3 * rng.normal();
  }
  // Push the EOS row of the tied embedding/head far from everything.
  const C = config.dModel;
  for (let c = 0; c < C; c++) model.w.wte[tok.eos * C + c] = 0;
  return model;
}

const model = peakedModel(1);
const prompts = ['', 'a', 'hello', 'x+y=z', 'The quick'];

/** Full (uncached) forward over the prompt and the generated tokens: row k holds the logits that
 * predict generated[k] (one row, predicting the first token, when nothing is generated). */
function fullForwardRows(m: Gpt, prompt: string, generated: readonly number[]): Float32Array[] {
  const promptIds = [tok.bos, ...tok.encode(prompt)];
  const input = [...promptIds, ...generated.slice(0, -1)];
  const logits = forwardLogits(m, Int32Array.from(input), 1, input.length);
  const V = config.vocabSize;
  const first = promptIds.length - 1;
  return Array.from({ length: Math.max(1, generated.length) }, (_, k) => logits.subarray((first + k) * V, (first + k + 1) * V));
}

function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let v = 1; v < row.length; v++) if (row[v]! > row[best]!) best = v;
  return best;
}

describe('sample: KV-cached decoding', () => {
  const greedy = sample(model, tok, prompts, { temperature: 0, maxTokens: 15 });

  it('produces the same greedy tokens and log-probabilities as a full forward without cache', () => {
    let checked = 0;
    prompts.forEach((prompt, i) => {
      const out = greedy[i]![0]!;
      expect(out.tokens.length).toBeGreaterThan(3);
      const rows = fullForwardRows(model, prompt, out.tokens);
      out.tokens.forEach((t, k) => {
        expect(argmax(rows[k]!)).toBe(t);
        expect(Math.abs(out.logprobs[k]! - logProb(rows[k]!, t))).toBeLessThan(1e-4);
        checked++;
      });
      expect(tok.decode(out.tokens)).toBe(out.text);
    });
    expect(checked).toBeGreaterThan(30);
  });

  it('shares a prefilled prompt between its n samples', () => {
    const twice = sample(model, tok, prompts, { temperature: 0, maxTokens: 15, n: 2, batchSize: 7 });
    prompts.forEach((_, i) => {
      expect(twice[i]![0]).toEqual(greedy[i]![0]);
      expect(twice[i]![1]).toEqual(greedy[i]![0]);
    });
  });

  it('stops at maxTokens or a full context with finishReason "length"', () => {
    for (const r of greedy) {
      const out = r[0]!;
      if (out.finishReason === 'length') expect(out.tokens.length).toBe(15);
      else expect(out.finishReason).toBe('eos');
    }
    // BOS + 20 characters = 24 − 3: room to feed 3 more tokens, so at most 4 are generated.
    const full = sample(model, tok, ['abcdefghijklmnopqrst'], { temperature: 0, maxTokens: 50 })[0]![0]!;
    expect(full.tokens.length).toBeLessThanOrEqual(4);
    if (full.tokens.length === 4) expect(full.finishReason).toBe('length');
  });

  it('top-k = 1 and a tiny top-p equal greedy decoding', () => {
    const k1 = sample(model, tok, prompts, { temperature: 1, topK: 1, maxTokens: 15, seed: 5 });
    const p0 = sample(model, tok, prompts, { temperature: 0.7, topP: 1e-9, maxTokens: 15, seed: 6 });
    for (let i = 0; i < prompts.length; i++) {
      expect(k1[i]![0]).toEqual(greedy[i]![0]);
      expect(p0[i]![0]).toEqual(greedy[i]![0]);
    }
  });

  it('cuts the text before a stop string and ends with finishReason "stop"', () => {
    const base = greedy[2]![0]!;
    const stop = base.text.slice(4, 6);
    const cut = base.text.indexOf(stop);
    const out = sample(model, tok, [prompts[2]!], { temperature: 0, maxTokens: 15, stop: ['#never#', stop] })[0]![0]!;
    expect(out.finishReason).toBe('stop');
    expect(out.text).toBe(base.text.slice(0, cut));
    expect(out.tokens).toEqual(base.tokens.slice(0, cut));
    expect(out.logprobs).toEqual(base.logprobs.slice(0, cut));
    // A single-character stop string at the very first token gives empty text.
    const first = sample(model, tok, [prompts[2]!], { temperature: 0, stop: [base.text[0]!] })[0]![0]!;
    expect(first).toEqual({ text: '', tokens: [], logprobs: [], finishReason: 'stop' });
  });
});

describe('sample: randomness', () => {
  it('is reproducible for a seed and independent of the batch size', () => {
    const opts = { n: 3, temperature: 1, maxTokens: 10, seed: 11 };
    const a = sample(model, tok, prompts, { ...opts, batchSize: 64 });
    const b = sample(model, tok, prompts, { ...opts, batchSize: 4 });
    const c = sample(model, tok, prompts, { ...opts, seed: 12 });
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    expect(a.every((r) => r.length === 3)).toBe(true);
    expect(new Set(a.flat().map((o) => o.text)).size).toBeGreaterThan(5); // samples differ from each other
  });

  it('draws first tokens with the tempered softmax frequencies; top-k restricts the support', () => {
    const row = fullForwardRows(model, 'ab', [])[0]!;
    const softmax = (temperature: number): number[] => {
      const z = Array.from(row, (x) => x / temperature);
      return Array.from(z, (_, v) => Math.exp(logProb(z, v)));
    };
    const n = 4000;
    const empirical = (temperature: number, seed: number): number[] => {
      const counts = new Array<number>(config.vocabSize).fill(0);
      for (const d of sample(model, tok, ['ab'], { n, maxTokens: 1, seed, temperature })[0]!) {
        counts[d.finishReason === 'eos' ? tok.eos : d.tokens[0]!]! += 1;
      }
      return counts.map((c) => c / n);
    };
    const tv = (p: number[], q: number[]): number => p.reduce((s, x, i) => s + Math.abs(x - q[i]!), 0) / 2;
    // Sampling noise: TV ≈ 0.05 for 4000 draws over this distribution. The two temperatures'
    // distributions are much further apart, so a temperature bug cannot pass.
    expect(tv(softmax(1), softmax(0.5))).toBeGreaterThan(0.25);
    expect(tv(empirical(1, 3), softmax(1))).toBeLessThan(0.1);
    expect(tv(empirical(0.5, 4), softmax(0.5))).toBeLessThan(0.1);

    const probs = softmax(1);
    const order = probs.map((p, v) => [p, v] as const).sort((x, y) => y[0] - x[0]);
    const allowed = new Set([order[0]![1], order[1]![1]]);
    const top2 = sample(model, tok, ['ab'], { n: 200, maxTokens: 1, seed: 4, topK: 2 })[0]!;
    expect(new Set(top2.map((d) => d.tokens[0]))).toEqual(allowed);
  });
});

describe('sample: prompts and options', () => {
  it('rejects a prompt longer than the context with a clear error, or left-truncates on request', () => {
    const long = 'z'.repeat(10) + 'abcdefghijklmnopq'; // 27 characters + BOS > 24
    expect(() => sample(model, tok, ['ok', long])).toThrow(ContextLengthError);
    expect(() => sample(model, tok, ['ok', long])).toThrow(/prompt 1 needs 28 tokens .*context length 24/);
    const truncated = sample(model, tok, [long], { temperature: 0, truncatePrompt: 'left', maxTokens: 3 })[0]![0]!;
    const explicit = sample(model, tok, [long.slice(-23)], { temperature: 0, maxTokens: 3 })[0]![0]!;
    expect(truncated).toEqual(explicit);
  });

  it('returns n results per prompt in prompt order, and empty results for maxTokens 0', () => {
    const out = sample(model, tok, ['a', 'b'], { n: 2, maxTokens: 0 });
    const empty: Completion = { text: '', tokens: [], logprobs: [], finishReason: 'length' };
    expect(out).toEqual([[empty, empty], [empty, empty]]);
    expect(sample(model, tok, [], { n: 4 })).toEqual([]);
  });

  it('validates options', () => {
    expect(() => sample(model, tok, ['a'], { temperature: -1 })).toThrow(/temperature/);
    expect(() => sample(model, tok, ['a'], { topP: 0 })).toThrow(/topP/);
    expect(() => sample(model, tok, ['a'], { n: 0 })).toThrow(/n must be/);
    expect(() => sample(model, tok, ['a'], { stop: [''] })).toThrow(/stop/);
    expect(() => sample(model, createCharTokenizer('abc'), ['a'])).toThrow(/vocabulary/);
  });
});
