/** Supervised fine-tuning on (prompt, completion) pairs. An example becomes the token sequence
 * `BOS prompt completion EOS`; the loss covers the completion and the EOS only. AdamW with linear
 * warmup and cosine decay, global-norm clipping, weight decay on matrices only. Shuffling and
 * batching are seeded, so a run is bit-reproducible for a seed on the same backend. */
import { ContextLengthError } from './config.js';
import { type Batch, type Gpt, backward, forward, reserveTraining, zeroGrads } from './model.js';
import type { CharTokenizer } from './tokenizer.js';
import { createRng, type Rng } from '../util/random.js';

export interface SftExample {
  prompt: string;
  completion: string;
}

export interface TrainProgress {
  /** Steps done (1-based after the first update). */
  step: number;
  totalSteps: number;
  /** Epoch the step belongs to (0-based). */
  epoch: number;
  /** Training loss of this step's batch. */
  loss: number;
  /** Learning rate used for this step. */
  lr: number;
  /** Gradient norm before clipping. */
  gradNorm: number;
  /** Loss-bearing tokens in this step's batch. */
  tokens: number;
  elapsedMs: number;
  /** Validation loss, on the steps where it was measured. */
  valLoss?: number;
}

export interface SftOptions {
  /** Passes over the data (default 1). Ignored when maxSteps is set. */
  epochs?: number;
  /** Train exactly this many steps (cycling through reshuffled epochs as needed). */
  maxSteps?: number;
  /** Examples per batch (default 32). */
  batchSize?: number;
  /** Peak learning rate (default 1e-3). */
  learningRate?: number;
  /** Learning rate at the end of the cosine decay (default learningRate / 10). */
  minLearningRate?: number;
  /** Linear warmup steps (default 5% of the total, at most 100). */
  warmupSteps?: number;
  /** AdamW decoupled weight decay on matrices (default 0.1). */
  weightDecay?: number;
  /** Adam betas and epsilon (defaults 0.9, 0.95, 1e-8). */
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Clip the global gradient norm to this value; 0 disables (default 1.0). */
  gradClip?: number;
  /** Seed for shuffling (default 0). */
  seed?: number;
  /** Sort examples of similar length into the same batch to cut padding (default true). */
  bucketByLength?: boolean;
  /** Held-out examples for the validation loss. */
  validation?: readonly SftExample[];
  /** Measure the validation loss every this many steps (default: once per epoch) and at the end. */
  evalEvery?: number;
  /** Stop after this many validation measurements without improvement (default: never). */
  patience?: number;
  /** With validation data, end with the weights of the best validation loss (default true). */
  restoreBest?: boolean;
  /** Examples that do not fit the context: throw (default) or leave out. */
  tooLong?: 'error' | 'skip';
  /** Called after every step. */
  onProgress?: (info: TrainProgress) => void;
  /** Continue an interrupted training from a state its `onSnapshot` gave: same model start,
   * examples and options, so the result is bit for bit that of an uninterrupted training. Not
   * with validation data (its best-weights state is not kept). */
  resume?: TrainState;
  /** Called with the training state when `snapshotEveryMs` has passed since the last call (or the
   * start). The arrays are live views: copy or write them before returning. */
  onSnapshot?: (state: TrainState) => void;
  snapshotEveryMs?: number;
}

/** Where a training stands after `step` steps: enough to continue it exactly. */
export interface TrainState {
  step: number;
  params: Float32Array;
  /** Adam's first and second moments. */
  m: Float32Array;
  v: Float32Array;
  /** Training loss of every step so far. */
  losses: number[];
}

export interface SftResult {
  steps: number;
  /** Training loss of every step. */
  losses: number[];
  valLosses: { step: number; loss: number }[];
  bestValLoss: number | null;
  /** Step of the best validation loss (the weights kept when restoreBest). */
  bestStep: number | null;
  stoppedEarly: boolean;
  /** Examples left out because they did not fit the context (tooLong: 'skip'). */
  skipped: number;
  elapsedMs: number;
}

/** One example as model input: `input` = BOS prompt completion (EOS dropped), `target` the next
 * token at each position, loss from position `lossStart` (first completion target) on. */
export interface EncodedExample {
  input: number[];
  target: number[];
  lossStart: number;
}

export function encodeExample(tokenizer: CharTokenizer, ex: SftExample): EncodedExample {
  const prompt = tokenizer.encode(ex.prompt);
  const seq = [tokenizer.bos, ...prompt, ...tokenizer.encode(ex.completion), tokenizer.eos];
  return { input: seq.slice(0, -1), target: seq.slice(1), lossStart: prompt.length };
}

function encodeAll(model: Gpt, tokenizer: CharTokenizer, examples: readonly SftExample[], tooLong: 'error' | 'skip', what: string):
  { encoded: EncodedExample[]; skipped: number } {
  const ctx = model.config.contextLength;
  const encoded: EncodedExample[] = [];
  let skipped = 0;
  examples.forEach((ex, i) => {
    const e = encodeExample(tokenizer, ex);
    if (e.input.length > ctx) {
      if (tooLong === 'skip') {
        skipped++;
        return;
      }
      throw new ContextLengthError(`${what} example ${i} needs ${e.input.length + 1} tokens (BOS + prompt + completion + EOS), `
        + `more than the context length ${ctx} + 1`);
    }
    encoded.push(e);
  });
  return { encoded, skipped };
}

/** Right-padded batch of examples (PAD inputs, masked targets), T = the longest input. */
export function makeBatch(examples: readonly EncodedExample[], pad: number): Batch {
  const B = examples.length;
  const T = Math.max(1, ...examples.map((e) => e.input.length));
  const tokens = new Int32Array(B * T).fill(pad);
  const targets = new Int32Array(B * T).fill(pad);
  const mask = new Float32Array(B * T);
  examples.forEach((e, b) => {
    for (let t = 0; t < e.input.length; t++) {
      tokens[b * T + t] = e.input[t]!;
      targets[b * T + t] = e.target[t]!;
      if (t >= e.lossStart) mask[b * T + t] = 1;
    }
  });
  return { tokens, targets, mask, B, T };
}

/** One epoch's batches (as index lists): shuffled; with bucketing, sorted by length within windows
 * of 16 batches, then the batch order shuffled again. */
function epochBatches(encoded: readonly EncodedExample[], batchSize: number, bucket: boolean, rng: Rng): number[][] {
  const order = rng.shuffle(encoded.map((_, i) => i));
  const batches: number[][] = [];
  if (!bucket) {
    for (let i = 0; i < order.length; i += batchSize) batches.push(order.slice(i, i + batchSize));
    return batches;
  }
  const window = batchSize * 16;
  for (let w = 0; w < order.length; w += window) {
    const chunk = order.slice(w, w + window).sort((a, b) => encoded[a]!.input.length - encoded[b]!.input.length || a - b);
    for (let i = 0; i < chunk.length; i += batchSize) batches.push(chunk.slice(i, i + batchSize));
  }
  return rng.shuffle(batches);
}

/** Learning rate at step s (0-based): linear warmup to `peak`, then cosine decay to `min`. */
export function learningRateAt(s: number, total: number, warmup: number, peak: number, min: number): number {
  if (s < warmup) return peak * (s + 1) / warmup;
  const decaySteps = Math.max(1, total - warmup);
  const progress = Math.min(1, (s - warmup) / decaySteps);
  return min + 0.5 * (peak - min) * (1 + Math.cos(Math.PI * progress));
}

function positiveInt(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer (got ${v})`);
  return v;
}

/** Token-weighted mean loss over the completion tokens of `examples` (no parameter change). */
export function evaluateLoss(model: Gpt, tokenizer: CharTokenizer, examples: readonly SftExample[],
  options: { batchSize?: number; tooLong?: 'error' | 'skip' } = {}): number {
  const batchSize = positiveInt('batchSize', options.batchSize ?? 32);
  const { encoded } = encodeAll(model, tokenizer, examples, options.tooLong ?? 'error', 'validation');
  return lossOver(model, tokenizer, encoded, batchSize);
}

function lossOver(model: Gpt, tokenizer: CharTokenizer, encoded: readonly EncodedExample[], batchSize: number): number {
  // Sorted by length so batches carry little padding; the order does not change the mean.
  const sorted = [...encoded].sort((a, b) => a.input.length - b.input.length);
  let total = 0;
  let count = 0;
  for (let i = 0; i < sorted.length; i += batchSize) {
    const batch = makeBatch(sorted.slice(i, i + batchSize), tokenizer.pad);
    const tokens = batch.mask.reduce((a, b) => a + b, 0);
    total += forward(model, batch) * tokens;
    count += tokens;
  }
  return count > 0 ? total / count : NaN;
}

function globalNorm(g: Float32Array): number {
  let s = 0;
  for (let i = 0; i < g.length; i++) s += g[i]! * g[i]!;
  return Math.sqrt(s);
}

/** Fine-tune `model` in place on `examples`. */
export function trainSft(model: Gpt, tokenizer: CharTokenizer, examples: readonly SftExample[], options: SftOptions = {}): SftResult {
  const started = performance.now();
  if (tokenizer.vocabSize !== model.config.vocabSize) {
    throw new RangeError(`tokenizer has ${tokenizer.vocabSize} tokens but the model's vocabulary is ${model.config.vocabSize}`);
  }
  const batchSize = positiveInt('batchSize', options.batchSize ?? 32);
  const tooLong = options.tooLong ?? 'error';
  const { encoded, skipped } = encodeAll(model, tokenizer, examples, tooLong, 'training');
  if (encoded.length === 0) throw new RangeError('no training examples (after leaving out those that do not fit the context)');
  const validation = options.validation && options.validation.length > 0
    ? encodeAll(model, tokenizer, options.validation, tooLong, 'validation').encoded : [];

  const stepsPerEpoch = Math.ceil(encoded.length / batchSize);
  const totalSteps = options.maxSteps !== undefined
    ? positiveInt('maxSteps', options.maxSteps)
    : positiveInt('epochs', options.epochs ?? 1) * stepsPerEpoch;
  const peak = options.learningRate ?? 1e-3;
  const minLr = options.minLearningRate ?? peak / 10;
  const warmup = options.warmupSteps ?? Math.min(100, Math.floor(totalSteps * 0.05));
  const weightDecay = options.weightDecay ?? 0.1;
  const beta1 = options.beta1 ?? 0.9;
  const beta2 = options.beta2 ?? 0.95;
  const eps = options.eps ?? 1e-8;
  const gradClip = options.gradClip ?? 1.0;
  const evalEvery = options.evalEvery !== undefined ? positiveInt('evalEvery', options.evalEvery) : stepsPerEpoch;
  const patience = options.patience ?? Infinity;
  const restoreBest = options.restoreBest ?? true;
  const bucket = options.bucketByLength ?? true;
  const rng = createRng(options.seed ?? 0);
  const resume = options.resume;
  if (resume) {
    if (validation.length > 0) throw new RangeError('resume: not with validation data');
    if (!Number.isSafeInteger(resume.step) || resume.step < 0 || resume.step > totalSteps) {
      throw new RangeError(`resume: step ${resume.step} is outside 0..${totalSteps}`);
    }
    if (resume.params.length !== model.params.length || resume.m.length !== model.params.length || resume.v.length !== model.params.length) {
      throw new RangeError(`resume: the state holds ${resume.params.length} parameters, the model ${model.params.length}`);
    }
  }

  // Buffers: activations for a full batch at full context, gradients, Adam moments (fresh per run).
  const be = model.backend;
  const nParams = model.params.length;
  reserveTraining(model, batchSize * model.config.contextLength);
  zeroGrads(model);
  if (!model.scratch.optimizer) model.scratch.optimizer = { m: be.alloc(nParams), v: be.alloc(nParams), best: null };
  const opt = model.scratch.optimizer;
  opt.m.fill(0);
  opt.v.fill(0);
  if (resume) {
    model.params.set(resume.params);
    opt.m.set(resume.m);
    opt.v.set(resume.v);
  }
  const grads = model.grads!;
  const dc = model.decayCount;

  const result: SftResult = {
    steps: 0, losses: [], valLosses: [], bestValLoss: null, bestStep: null, stoppedEarly: false, skipped, elapsedMs: 0,
  };
  let sinceBest = 0;
  const validate = (step: number): number => {
    const loss = lossOver(model, tokenizer, validation, batchSize);
    result.valLosses.push({ step, loss });
    if (result.bestValLoss === null || loss < result.bestValLoss) {
      result.bestValLoss = loss;
      result.bestStep = step;
      sinceBest = 0;
      if (restoreBest) {
        opt.best ??= be.alloc(nParams);
        opt.best.set(model.params);
      }
    } else {
      sinceBest++;
    }
    return loss;
  };

  let batches: number[][] = [];
  let epoch = -1;
  const nextBatch = (): number[] => {
    if (batches.length === 0) {
      batches = epochBatches(encoded, batchSize, bucket, rng).reverse(); // popped from the end
      epoch++;
    }
    return batches.pop()!;
  };
  // A resumed training draws the batches it already trained on, so the seeded order continues.
  const first = resume?.step ?? 0;
  for (let step = 0; step < first; step++) nextBatch();
  if (resume) {
    result.losses = resume.losses.slice(0, first);
    result.steps = first;
  }
  const snapshotEvery = options.snapshotEveryMs ?? Infinity;
  let lastSnapshot = performance.now();
  for (let step = first; step < totalSteps; step++) {
    const batch = makeBatch(nextBatch().map((i) => encoded[i]!), tokenizer.pad);
    const lr = learningRateAt(step, totalSteps, warmup, peak, minLr);

    grads.fill(0);
    const loss = forward(model, batch);
    if (!Number.isFinite(loss)) throw new Error(`training diverged: loss is ${loss} at step ${step + 1}`);
    backward(model);
    const gradNorm = globalNorm(grads);
    if (!Number.isFinite(gradNorm)) throw new Error(`training diverged: gradient norm is ${gradNorm} at step ${step + 1}`);
    if (gradClip > 0 && gradNorm > gradClip) {
      const s = gradClip / gradNorm;
      for (let i = 0; i < nParams; i++) grads[i] = grads[i]! * s;
    }
    // Two AdamW calls over the two contiguous ranges: matrices with decay, the rest without.
    be.adamw(model.params.subarray(0, dc), grads.subarray(0, dc), opt.m.subarray(0, dc), opt.v.subarray(0, dc), dc,
      lr, beta1, beta2, eps, weightDecay, step + 1);
    be.adamw(model.params.subarray(dc), grads.subarray(dc), opt.m.subarray(dc), opt.v.subarray(dc), nParams - dc,
      lr, beta1, beta2, eps, 0, step + 1);

    result.steps = step + 1;
    result.losses.push(loss);
    let valLoss: number | undefined;
    const last = step + 1 === totalSteps;
    if (validation.length > 0 && ((step + 1) % evalEvery === 0 || last)) valLoss = validate(step + 1);
    options.onProgress?.({
      step: step + 1, totalSteps, epoch, loss, lr, gradNorm, tokens: batch.mask.reduce((a, b) => a + b, 0),
      elapsedMs: performance.now() - started, ...(valLoss !== undefined ? { valLoss } : {}),
    });
    if (options.onSnapshot && !last && performance.now() - lastSnapshot >= snapshotEvery) {
      options.onSnapshot({ step: step + 1, params: model.params, m: opt.m, v: opt.v, losses: result.losses });
      lastSnapshot = performance.now();
    }
    if (sinceBest >= patience) {
      result.stoppedEarly = !last;
      break;
    }
  }
  if (validation.length > 0 && restoreBest && opt.best && result.bestStep !== result.steps) model.params.set(opt.best);
  result.elapsedMs = performance.now() - started;
  return result;
}
