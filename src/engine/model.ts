/** A GPT-2 style decoder, as in llm.c: token + learned position embeddings, pre-norm blocks
 * (LN → causal multi-head attention → residual; LN → MLP 4× GELU → residual), final LN and an
 * output head tied to the token embedding (or separate).
 *
 * Every tensor lives in a buffer from `backend.alloc`: the parameters in one flat buffer with named
 * views, gradients and Adam moments in buffers of the same layout, activations and the KV cache in
 * buffers kept on the model and reused. Matrix products, layer norms, attention and GELU run on the
 * backend; embedding lookups, bias and residual adds and the loss are plain loops over the views.
 *
 * Weight matrices are stored in×out (GPT-2 "Conv1D" layout), so a linear layer is x·W. */
import type { Backend, DecodePlan } from './backend.js';
import { jsBackend } from './backends/js.js';
import { type ModelConfig, validateConfig } from './config.js';
import { createRng } from '../util/random.js';

/** One named parameter tensor inside the flat buffer. */
export interface ParamTensor {
  /** GPT-2 checkpoint name, e.g. `h.0.attn.c_attn.weight`. */
  name: string;
  shape: number[];
  /** Offset (in floats) into the flat parameter buffer. */
  offset: number;
  size: number;
  /** Matrices get weight decay; biases and layer-norm gains do not. */
  decay: boolean;
}

export interface LayerWeights {
  ln1w: Float32Array; ln1b: Float32Array;
  /** Fused q, k, v projection, C×3C. */
  qkvw: Float32Array; qkvb: Float32Array;
  attprojw: Float32Array; attprojb: Float32Array;
  ln2w: Float32Array; ln2b: Float32Array;
  fcw: Float32Array; fcb: Float32Array;
  fcprojw: Float32Array; fcprojb: Float32Array;
}

/** Named views into one flat buffer (parameters or their gradients). */
export interface Weights {
  /** Token embedding, V×C. */
  wte: Float32Array;
  /** Position embedding, T×C. */
  wpe: Float32Array;
  layers: LayerWeights[];
  lnfw: Float32Array; lnfb: Float32Array;
  /** Output head, V×C (logits = x·lmHeadᵀ); the same view as `wte` when tied. */
  lmHead: Float32Array;
}

export interface Gpt {
  readonly config: ModelConfig;
  readonly backend: Backend;
  /** Parameter tensors in checkpoint order. */
  readonly tensors: readonly ParamTensor[];
  /** params[0, decayCount) are the matrices (weight decay), the rest biases and gains. */
  readonly decayCount: number;
  readonly params: Float32Array;
  readonly w: Weights;
  /** Gradient buffer (same layout as params), allocated on first training use. */
  grads: Float32Array | null;
  g: Weights | null;
  /** Reused scratch: activations for training / for inference, the KV cache, optimizer state. */
  scratch: {
    train: Activations | null;
    infer: Activations | null;
    kv: KvCache | null;
    /** The backend's packed weights for fused decoding (prepareDecode), reused across calls. */
    decode: DecodePlan | null;
    /** Adam moments and a copy of the best weights (train.ts). */
    optimizer: { m: Float32Array; v: Float32Array; best: Float32Array | null } | null;
  };
}

/** Standard deviation of the GPT-2 initialisation. */
export const INIT_STD = 0.02;

// ---------------------------------------------------------------------------------------------
// Parameters

interface TensorSpec { name: string; shape: number[]; decay: boolean; init: 'normal' | 'residual' | 'ones' | 'zeros' }

/** Every parameter tensor in checkpoint order (GPT-2 names and shapes). */
function tensorSpecs(c: ModelConfig): TensorSpec[] {
  const C = c.dModel;
  const F = c.dMlp;
  const specs: TensorSpec[] = [
    { name: 'wte.weight', shape: [c.vocabSize, C], decay: true, init: 'normal' },
    { name: 'wpe.weight', shape: [c.contextLength, C], decay: true, init: 'normal' },
  ];
  for (let l = 0; l < c.nLayer; l++) {
    const p = `h.${l}.`;
    specs.push(
      { name: p + 'ln_1.weight', shape: [C], decay: false, init: 'ones' },
      { name: p + 'ln_1.bias', shape: [C], decay: false, init: 'zeros' },
      { name: p + 'attn.c_attn.weight', shape: [C, 3 * C], decay: true, init: 'normal' },
      { name: p + 'attn.c_attn.bias', shape: [3 * C], decay: false, init: 'zeros' },
      { name: p + 'attn.c_proj.weight', shape: [C, C], decay: true, init: 'residual' },
      { name: p + 'attn.c_proj.bias', shape: [C], decay: false, init: 'zeros' },
      { name: p + 'ln_2.weight', shape: [C], decay: false, init: 'ones' },
      { name: p + 'ln_2.bias', shape: [C], decay: false, init: 'zeros' },
      { name: p + 'mlp.c_fc.weight', shape: [C, F], decay: true, init: 'normal' },
      { name: p + 'mlp.c_fc.bias', shape: [F], decay: false, init: 'zeros' },
      { name: p + 'mlp.c_proj.weight', shape: [F, C], decay: true, init: 'residual' },
      { name: p + 'mlp.c_proj.bias', shape: [C], decay: false, init: 'zeros' },
    );
  }
  specs.push(
    { name: 'ln_f.weight', shape: [C], decay: false, init: 'ones' },
    { name: 'ln_f.bias', shape: [C], decay: false, init: 'zeros' },
  );
  if (!c.tiedEmbeddings) specs.push({ name: 'lm_head.weight', shape: [c.vocabSize, C], decay: true, init: 'normal' });
  return specs;
}

/** Offsets of every tensor in the flat buffer: decayed matrices first, then the rest, so AdamW runs
 * as two calls over two contiguous ranges of the one buffer. */
export function paramLayout(c: ModelConfig): { tensors: ParamTensor[]; total: number; decayCount: number } {
  validateConfig(c);
  const specs = tensorSpecs(c);
  const offsets = new Map<string, number>();
  let offset = 0;
  for (const decay of [true, false]) {
    for (const s of specs) {
      if (s.decay !== decay) continue;
      offsets.set(s.name, offset);
      offset += s.shape.reduce((a, b) => a * b, 1);
    }
  }
  const tensors = specs.map((s) => ({
    name: s.name, shape: s.shape, offset: offsets.get(s.name)!, size: s.shape.reduce((a, b) => a * b, 1), decay: s.decay,
  }));
  const decayCount = tensors.filter((t) => t.decay).reduce((n, t) => n + t.size, 0);
  return { tensors, total: offset, decayCount };
}

/** Named views of a flat buffer laid out by `paramLayout`. */
function viewWeights(buf: Float32Array, c: ModelConfig, tensors: readonly ParamTensor[]): Weights {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const v = (name: string): Float32Array => {
    const t = byName.get(name)!;
    return buf.subarray(t.offset, t.offset + t.size);
  };
  const layers: LayerWeights[] = [];
  for (let l = 0; l < c.nLayer; l++) {
    const p = `h.${l}.`;
    layers.push({
      ln1w: v(p + 'ln_1.weight'), ln1b: v(p + 'ln_1.bias'),
      qkvw: v(p + 'attn.c_attn.weight'), qkvb: v(p + 'attn.c_attn.bias'),
      attprojw: v(p + 'attn.c_proj.weight'), attprojb: v(p + 'attn.c_proj.bias'),
      ln2w: v(p + 'ln_2.weight'), ln2b: v(p + 'ln_2.bias'),
      fcw: v(p + 'mlp.c_fc.weight'), fcb: v(p + 'mlp.c_fc.bias'),
      fcprojw: v(p + 'mlp.c_proj.weight'), fcprojb: v(p + 'mlp.c_proj.bias'),
    });
  }
  const wte = v('wte.weight');
  return {
    wte, wpe: v('wpe.weight'), layers, lnfw: v('ln_f.weight'), lnfb: v('ln_f.bias'),
    lmHead: c.tiedEmbeddings ? wte : v('lm_head.weight'),
  };
}

export interface CreateGptOptions {
  /** Compute backend (default: the plain-JS reference backend). */
  backend?: Backend;
  /** Initialisation seed (default 0). */
  seed?: number;
}

/** A freshly initialised model: GPT-2 init (normal, std 0.02; residual projections scaled by
 * 1/sqrt(2·nLayer); LN gains 1, biases 0), deterministic for a seed. */
export function createGpt(config: ModelConfig, options: CreateGptOptions = {}): Gpt {
  const model = allocGpt(config, options.backend ?? jsBackend);
  initWeights(model, options.seed ?? 0);
  return model;
}

/** A model with zeroed parameters (for loading a checkpoint into). */
export function allocGpt(config: ModelConfig, backend: Backend = jsBackend): Gpt {
  const { tensors, total, decayCount } = paramLayout(config);
  const params = backend.alloc(total);
  return {
    config: { ...config }, backend, tensors, decayCount, params,
    w: viewWeights(params, config, tensors),
    grads: null, g: null,
    scratch: { train: null, infer: null, kv: null, decode: null, optimizer: null },
  };
}

/** Re-initialise all parameters (tensor by tensor in checkpoint order, one seeded stream). */
export function initWeights(model: Gpt, seed: number): void {
  const rng = createRng(seed);
  const specs = tensorSpecs(model.config);
  const residualStd = INIT_STD / Math.sqrt(2 * model.config.nLayer);
  model.tensors.forEach((t, i) => {
    const view = model.params.subarray(t.offset, t.offset + t.size);
    const init = specs[i]!.init;
    if (init === 'ones') view.fill(1);
    else if (init === 'zeros') view.fill(0);
    else {
      const std = init === 'residual' ? residualStd : INIT_STD;
      for (let k = 0; k < view.length; k++) view[k] = rng.normal() * std;
    }
  });
}

/** A copy of the model (same backend unless given), sharing nothing. */
export function cloneGpt(model: Gpt, backend: Backend = model.backend): Gpt {
  const copy = allocGpt(model.config, backend);
  copy.params.set(model.params);
  return copy;
}

/** Allocate (once) and zero the gradient buffer. */
export function zeroGrads(model: Gpt): void {
  if (!model.grads) {
    model.grads = model.backend.alloc(model.params.length);
    model.g = viewWeights(model.grads, model.config, model.tensors);
  } else {
    model.grads.fill(0);
  }
}

// ---------------------------------------------------------------------------------------------
// Activations

interface LayerActs {
  ln1: Float32Array; ln1Mean: Float32Array; ln1Rstd: Float32Array;
  qkv: Float32Array; atty: Float32Array; att: Float32Array;
  residual2: Float32Array;
  ln2: Float32Array; ln2Mean: Float32Array; ln2Rstd: Float32Array;
  fch: Float32Array; fchGelu: Float32Array;
  residual3: Float32Array;
}

interface GradScratch {
  dres: Float32Array; dbuf: Float32Array; dqkv: Float32Array; datt: Float32Array;
  dfch: Float32Array; dfchGelu: Float32Array;
}

/** Activation buffers for up to `rows` = B·T token positions (T ≤ contextLength). */
export interface Activations {
  rows: number;
  encoded: Float32Array;
  /** One entry per layer; for inference every entry is the same object (nothing kept for backward). */
  layers: LayerActs[];
  lnf: Float32Array; lnfMean: Float32Array; lnfRstd: Float32Array;
  /** Logits, B×T×V; after a forward with targets, the softmax probabilities. */
  logits: Float32Array;
  grad: GradScratch | null;
  /** What the last forward ran on, for backward. */
  last: { tokens: Int32Array; targets: Int32Array; mask: Float32Array; B: number; T: number; maskSum: number } | null;
}

function allocActs(model: Gpt, rows: number, training: boolean): Activations {
  const { dModel: C, dMlp: F, nHead: H, nLayer: L, vocabSize: V, contextLength: ctx } = model.config;
  const a = (n: number): Float32Array => model.backend.alloc(n);
  const layer = (): LayerActs => ({
    ln1: a(rows * C), ln1Mean: a(rows), ln1Rstd: a(rows),
    qkv: a(rows * 3 * C), atty: a(rows * C), att: a(rows * H * ctx),
    residual2: a(rows * C),
    ln2: a(rows * C), ln2Mean: a(rows), ln2Rstd: a(rows),
    fch: a(rows * F), fchGelu: a(rows * F),
    residual3: a(rows * C),
  });
  let layers: LayerActs[];
  if (training) layers = Array.from({ length: L }, layer);
  else {
    const shared = layer();
    layers = Array.from({ length: L }, () => shared);
  }
  return {
    rows, encoded: a(rows * C), layers, lnf: a(rows * C), lnfMean: a(rows), lnfRstd: a(rows), logits: a(rows * V),
    grad: training
      ? { dres: a(rows * C), dbuf: a(rows * C), dqkv: a(rows * 3 * C), datt: a(rows * H * ctx), dfch: a(rows * F), dfchGelu: a(rows * F) }
      : null,
    last: null,
  };
}

/** Make sure training activations for `rows` positions exist (allocated once, grown if needed). */
export function reserveTraining(model: Gpt, rows: number): void {
  if (!model.scratch.train || model.scratch.train.rows < rows) model.scratch.train = allocActs(model, rows, true);
}

function inferActs(model: Gpt, rows: number): Activations {
  if (!model.scratch.infer || model.scratch.infer.rows < rows) model.scratch.infer = allocActs(model, rows, false);
  return model.scratch.infer;
}

// ---------------------------------------------------------------------------------------------
// Glue loops

/** out[N×D] rows = bias (the matmul then accumulates x·W on top). */
function fillRows(out: Float32Array, bias: Float32Array, N: number, D: number): void {
  for (let i = 0; i < N; i++) out.set(bias.subarray(0, D), i * D);
}

/** out = x·W + b, x N×I, W I×O. */
function linear(be: Backend, out: Float32Array, x: Float32Array, w: Float32Array, b: Float32Array, N: number, I: number, O: number): void {
  fillRows(out, b, N, O);
  be.matmul(out, x, w, N, O, I, false, false, true);
}

function addInto(out: Float32Array, a: Float32Array, b: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) out[i] = a[i]! + b[i]!;
}

/** dbias[D] += Σ_rows d[N×D]. */
function addColumnSums(dbias: Float32Array, d: Float32Array, N: number, D: number): void {
  for (let i = 0; i < N; i++) {
    const r = i * D;
    for (let j = 0; j < D; j++) dbias[j] += d[r + j]!;
  }
}

function checkToken(tok: number, V: number): void {
  if (!(tok >= 0 && tok < V)) throw new RangeError(`token id ${tok} is outside the vocabulary (size ${V})`);
}

/** encoded[b,t] = wte[token] + wpe[t]. */
function embed(model: Gpt, out: Float32Array, tokens: Int32Array, B: number, T: number): void {
  const { dModel: C, vocabSize: V } = model.config;
  const { wte, wpe } = model.w;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const tok = tokens[b * T + t]!;
      checkToken(tok, V);
      const o = (b * T + t) * C;
      for (let c = 0; c < C; c++) out[o + c] = wte[tok * C + c]! + wpe[t * C + c]!;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Forward / backward

/** Where a prefill stores keys and values: batch row b goes to cache slot slots[b]. */
interface KvTarget { cache: KvCache; slots: readonly number[] }

/** The transformer over B×T tokens into `acts` (logits for every position), storing K/V when asked. */
function runForward(model: Gpt, acts: Activations, tokens: Int32Array, B: number, T: number, kv?: KvTarget): void {
  const { dModel: C, dMlp: F, nHead: H, nLayer: L, vocabSize: V, contextLength: ctx } = model.config;
  if (T > ctx) throw new RangeError(`sequence length ${T} exceeds the context length ${ctx}`);
  const N = B * T;
  if (N > acts.rows) throw new RangeError(`batch of ${N} positions exceeds the reserved ${acts.rows}`);
  const be = model.backend;
  embed(model, acts.encoded, tokens, B, T);
  let residual = acts.encoded;
  for (let l = 0; l < L; l++) {
    const w = model.w.layers[l]!;
    const a = acts.layers[l]!;
    be.layerNormForward(a.ln1, a.ln1Mean, a.ln1Rstd, residual, w.ln1w, w.ln1b, N, C);
    linear(be, a.qkv, a.ln1, w.qkvw, w.qkvb, N, C, 3 * C);
    if (kv) storeKv(kv, l, a.qkv, B, T, C, ctx);
    be.attentionForward(a.atty, a.att, a.qkv, B, T, C, H);
    linear(be, a.residual2, a.atty, w.attprojw, w.attprojb, N, C, C);
    addInto(a.residual2, a.residual2, residual, N * C);
    be.layerNormForward(a.ln2, a.ln2Mean, a.ln2Rstd, a.residual2, w.ln2w, w.ln2b, N, C);
    linear(be, a.fch, a.ln2, w.fcw, w.fcb, N, C, F);
    be.geluForward(a.fchGelu, a.fch, N * F);
    // residual3 may alias the previous layer's residual3 (inference): element-wise, read before write.
    linear(be, a.residual3, a.fchGelu, w.fcprojw, w.fcprojb, N, F, C);
    addInto(a.residual3, a.residual3, a.residual2, N * C);
    residual = a.residual3;
  }
  be.layerNormForward(acts.lnf, acts.lnfMean, acts.lnfRstd, residual, model.w.lnfw, model.w.lnfb, N, C);
  be.matmul(acts.logits, acts.lnf, model.w.lmHead, N, V, C, false, true, false);
}

/** One batch: B rows of T token ids, right padded. `targets[b,t]` is the id to predict after
 * position t; `mask[b,t]` its loss weight (0 for prompt and padding positions). */
export interface Batch {
  tokens: Int32Array;
  targets: Int32Array;
  mask: Float32Array;
  B: number;
  T: number;
}

/** Forward pass with loss: the mask-weighted mean cross-entropy. Keeps what `backward` needs.
 * Training activations must be reserved for B·T rows (`reserveTraining`). */
export function forward(model: Gpt, batch: Batch): number {
  const { B, T, tokens, targets, mask } = batch;
  const V = model.config.vocabSize;
  const N = B * T;
  if (tokens.length < N || targets.length < N || mask.length < N) throw new RangeError('batch arrays are shorter than B·T');
  reserveTraining(model, N);
  const acts = model.scratch.train!;
  runForward(model, acts, tokens, B, T);
  // Softmax cross-entropy per position, probabilities kept in place of the logits.
  const logits = acts.logits;
  let lossSum = 0;
  let maskSum = 0;
  for (let i = 0; i < N; i++) {
    const m = mask[i]!;
    if (m === 0) continue;
    const tgt = targets[i]!;
    checkToken(tgt, V);
    const r = i * V;
    let max = -Infinity;
    for (let v = 0; v < V; v++) if (logits[r + v]! > max) max = logits[r + v]!;
    const target = logits[r + tgt]!;
    let sum = 0;
    for (let v = 0; v < V; v++) {
      const e = Math.exp(logits[r + v]! - max);
      logits[r + v] = e;
      sum += e;
    }
    lossSum += m * (Math.log(sum) + max - target);
    maskSum += m;
    const inv = 1 / sum;
    for (let v = 0; v < V; v++) logits[r + v] = logits[r + v]! * inv;
  }
  acts.last = { tokens, targets, mask, B, T, maskSum };
  return maskSum > 0 ? lossSum / maskSum : 0;
}

/** Backward pass of the last `forward`: accumulates into `model.grads` (call `zeroGrads` first). */
export function backward(model: Gpt): void {
  const acts = model.scratch.train;
  if (!acts?.last) throw new Error('backward() needs a forward() with targets first');
  if (!model.grads) zeroGrads(model);
  const { dModel: C, dMlp: F, nHead: H, nLayer: L, vocabSize: V } = model.config;
  const { tokens, targets, mask, B, T, maskSum } = acts.last;
  acts.last = null; // the logits buffer is turned into gradients below
  const N = B * T;
  const be = model.backend;
  const g = model.g!;
  const w = model.w;
  const { dres, dbuf, dqkv, datt, dfch, dfchGelu } = acts.grad!;

  // dlogits = (softmax − onehot) · mask / Σmask, in place.
  const dl = acts.logits;
  for (let i = 0; i < N; i++) {
    const r = i * V;
    const m = mask[i]!;
    if (m === 0 || maskSum === 0) {
      dl.fill(0, r, r + V);
      continue;
    }
    const scale = m / maskSum;
    for (let v = 0; v < V; v++) dl[r + v] = dl[r + v]! * scale;
    dl[r + targets[i]!] -= scale;
  }
  be.matmul(dbuf, dl, w.lmHead, N, C, V, false, false, false);
  be.matmul(g.lmHead, dl, acts.lnf, V, C, N, true, false, true);
  dres.fill(0, 0, N * C);
  const lastResidual = L > 0 ? acts.layers[L - 1]!.residual3 : acts.encoded;
  be.layerNormBackward(dres, g.lnfw, g.lnfb, dbuf, lastResidual, w.lnfw, acts.lnfMean, acts.lnfRstd, N, C);

  // dres holds the gradient of the residual stream as it flows down through the blocks.
  for (let l = L - 1; l >= 0; l--) {
    const wl = w.layers[l]!;
    const gl = g.layers[l]!;
    const a = acts.layers[l]!;
    const residual = l === 0 ? acts.encoded : acts.layers[l - 1]!.residual3;
    // MLP
    be.matmul(gl.fcprojw, a.fchGelu, dres, F, C, N, true, false, true);
    addColumnSums(gl.fcprojb, dres, N, C);
    be.matmul(dfchGelu, dres, wl.fcprojw, N, F, C, false, true, false);
    dfch.fill(0, 0, N * F);
    be.geluBackward(dfch, a.fch, dfchGelu, N * F);
    be.matmul(gl.fcw, a.ln2, dfch, C, F, N, true, false, true);
    addColumnSums(gl.fcb, dfch, N, F);
    be.matmul(dbuf, dfch, wl.fcw, N, C, F, false, true, false);
    be.layerNormBackward(dres, gl.ln2w, gl.ln2b, dbuf, a.residual2, wl.ln2w, a.ln2Mean, a.ln2Rstd, N, C);
    // Attention
    be.matmul(gl.attprojw, a.atty, dres, C, C, N, true, false, true);
    addColumnSums(gl.attprojb, dres, N, C);
    be.matmul(dbuf, dres, wl.attprojw, N, C, C, false, true, false);
    dqkv.fill(0, 0, N * 3 * C);
    be.attentionBackward(dqkv, datt, dbuf, a.qkv, a.att, B, T, C, H);
    be.matmul(gl.qkvw, a.ln1, dqkv, C, 3 * C, N, true, false, true);
    addColumnSums(gl.qkvb, dqkv, N, 3 * C);
    be.matmul(dbuf, dqkv, wl.qkvw, N, C, 3 * C, false, true, false);
    be.layerNormBackward(dres, gl.ln1w, gl.ln1b, dbuf, residual, wl.ln1w, a.ln1Mean, a.ln1Rstd, N, C);
  }
  // Embeddings: scatter the residual gradient into the looked-up rows.
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const i = b * T + t;
      const tok = tokens[i]!;
      for (let c = 0; c < C; c++) {
        const d = dres[i * C + c]!;
        g.wte[tok * C + c] += d;
        g.wpe[t * C + c] += d;
      }
    }
  }
}

/** Logits (B×T×V, a fresh copy) of a full forward pass without cache. For evaluation and tests. */
export function forwardLogits(model: Gpt, tokens: Int32Array, B: number, T: number): Float32Array {
  const acts = inferActs(model, B * T);
  runForward(model, acts, tokens, B, T);
  return acts.logits.slice(0, B * T * model.config.vocabSize);
}

// ---------------------------------------------------------------------------------------------
// Incremental decoding with a KV cache

/** Keys and values of every layer for up to `slots` sequences of up to contextLength positions:
 * k[l][(slot·ctx + pos)·C + c]. */
export interface KvCache {
  slots: number;
  k: Float32Array[];
  v: Float32Array[];
  /** Attention scores and output of one query and head (glue scratch). */
  scores: Float64Array;
  acc: Float64Array;
}

/** The model's KV cache for at least `slots` sequences (allocated once, grown if needed), with
 * inference activations for a prefill of up to `slots` full-length prompts. */
export function reserveKvCache(model: Gpt, slots: number): KvCache {
  const { nLayer: L, contextLength: ctx, dModel: C } = model.config;
  let kv = model.scratch.kv;
  if (!kv || kv.slots < slots) {
    const n = slots * ctx * C;
    kv = {
      slots,
      k: Array.from({ length: L }, () => model.backend.alloc(n)),
      v: Array.from({ length: L }, () => model.backend.alloc(n)),
      scores: new Float64Array(ctx),
      acc: new Float64Array(C / model.config.nHead),
    };
    model.scratch.kv = kv;
  }
  inferActs(model, slots * ctx);
  return kv;
}

function storeKv(kv: KvTarget, l: number, qkv: Float32Array, B: number, T: number, C: number, ctx: number): void {
  const kc = kv.cache.k[l]!;
  const vc = kv.cache.v[l]!;
  for (let b = 0; b < B; b++) {
    const slot = kv.slots[b]!;
    for (let t = 0; t < T; t++) {
      const src = (b * T + t) * 3 * C;
      const dst = (slot * ctx + t) * C;
      kc.set(qkv.subarray(src + C, src + 2 * C), dst);
      vc.set(qkv.subarray(src + 2 * C, src + 3 * C), dst);
    }
  }
}

/** Run B prompts of equal length T through the model, storing their keys/values in cache slots
 * `slots[b]` (positions 0..T−1). Returns the logits (B×T×V view, valid until the next call). */
export function prefill(model: Gpt, tokens: Int32Array, B: number, T: number, slots: readonly number[]): Float32Array {
  const cache = model.scratch.kv;
  if (!cache) throw new Error('prefill() needs reserveKvCache() first');
  for (const s of slots) if (!(s >= 0 && s < cache.slots)) throw new RangeError(`cache slot ${s} out of range`);
  const acts = inferActs(model, B * T);
  runForward(model, acts, tokens, B, T, { cache, slots });
  return acts.logits;
}

/** Copy the first `len` cached positions of slot `from` to slot `to` (prompts shared by samples). */
export function copyKvSlot(model: Gpt, from: number, to: number, len: number): void {
  const kv = model.scratch.kv!;
  const { contextLength: ctx, dModel: C } = model.config;
  for (let l = 0; l < kv.k.length; l++) {
    for (const buf of [kv.k[l]!, kv.v[l]!]) buf.copyWithin(to * ctx * C, from * ctx * C, (from * ctx + len) * C);
  }
}

/** A fused decoding step prepared for the model's current weights and KV cache (prepareDecode). */
export interface DecodeSession {
  readonly plan: DecodePlan;
  readonly kv: KvCache;
}

/** When the backend fuses a whole decoding step (Backend.decodeForward), pack the current weights
 * for it (into buffers reused across calls) and return the session to pass to decodeStep; null
 * otherwise. The session is valid until the parameters change or the KV cache is re-reserved:
 * prepare one per sampling call. */
export function prepareDecode(model: Gpt): DecodeSession | null {
  const be = model.backend;
  const kv = model.scratch.kv;
  if (!be.packDecode || !be.decodeForward || !kv) return null;
  const { dModel: C, dMlp: F, nHead: H, nLayer: L, vocabSize: V, contextLength: ctx } = model.config;
  const w = model.w;
  const plan = be.packDecode({
    L, C, F, H, V, ctx, wte: w.wte, wpe: w.wpe, lnfw: w.lnfw, lnfb: w.lnfb, lmHead: w.lmHead,
    layers: w.layers.map((lw, l) => ({ ...lw, k: kv.k[l]!, v: kv.v[l]! })),
  }, model.scratch.decode ?? undefined);
  model.scratch.decode = plan;
  return { plan, kv };
}

/** One decoding step for n sequences: sequence i feeds token tokens[i] at position positions[i]
 * (its cache slot holds positions 0..positions[i]−1). Returns the next-token logits (n×V view,
 * valid until the next call). With a session from prepareDecode the backend runs the whole step
 * in one call; otherwise the matrix products and layer norms run on the backend over the n rows
 * and attention against the cache through attentionDecode or a plain loop. */
export function decodeStep(model: Gpt, slots: readonly number[], tokens: readonly number[], positions: readonly number[],
  session?: DecodeSession | null): Float32Array {
  const kv = model.scratch.kv;
  if (!kv) throw new Error('decodeStep() needs reserveKvCache() first');
  const { dModel: C, dMlp: F, nHead: H, nLayer: L, vocabSize: V, contextLength: ctx } = model.config;
  const n = slots.length;
  const acts = inferActs(model, n);
  if (session) {
    if (session.kv !== kv || session.plan.backend !== model.backend) throw new Error('decodeStep(): the decode session is stale (KV cache re-reserved)');
    const a0 = acts.layers[0]!;
    model.backend.decodeForward!(session.plan, { x: acts.encoded, ln: a0.ln1, qkv: a0.qkv, atty: a0.atty, fch: a0.fch, logits: acts.logits },
      tokens, slots, positions, n);
    return acts.logits;
  }
  const be = model.backend;
  const x = acts.encoded;
  const a = acts.layers[0]!;
  const { wte, wpe } = model.w;
  for (let i = 0; i < n; i++) {
    const tok = tokens[i]!;
    const pos = positions[i]!;
    checkToken(tok, V);
    if (!(pos >= 0 && pos < ctx)) throw new RangeError(`position ${pos} is outside the context (${ctx})`);
    if (!(slots[i]! >= 0 && slots[i]! < kv.slots)) throw new RangeError(`cache slot ${slots[i]} out of range`);
    for (let c = 0; c < C; c++) x[i * C + c] = wte[tok * C + c]! + wpe[pos * C + c]!;
  }
  for (let l = 0; l < L; l++) {
    const w = model.w.layers[l]!;
    be.layerNormForward(a.ln1, a.ln1Mean, a.ln1Rstd, x, w.ln1w, w.ln1b, n, C);
    linear(be, a.qkv, a.ln1, w.qkvw, w.qkvb, n, C, 3 * C);
    if (be.attentionDecode) be.attentionDecode(a.atty, a.qkv, kv.k[l]!, kv.v[l]!, slots, positions, n, ctx, C, H);
    else attendToCache(a.atty, a.qkv, kv.k[l]!, kv.v[l]!, slots, positions, n, C, H, ctx, kv.scores, kv.acc);
    linear(be, a.residual2, a.atty, w.attprojw, w.attprojb, n, C, C);
    addInto(x, x, a.residual2, n * C);
    be.layerNormForward(a.ln2, a.ln2Mean, a.ln2Rstd, x, w.ln2w, w.ln2b, n, C);
    linear(be, a.fch, a.ln2, w.fcw, w.fcb, n, C, F);
    be.geluForward(a.fchGelu, a.fch, n * F);
    linear(be, a.residual3, a.fchGelu, w.fcprojw, w.fcprojb, n, F, C);
    addInto(x, x, a.residual3, n * C);
  }
  be.layerNormForward(acts.lnf, acts.lnfMean, acts.lnfRstd, x, model.w.lnfw, model.w.lnfb, n, C);
  be.matmul(acts.logits, acts.lnf, model.w.lmHead, n, V, C, false, true, false);
  return acts.logits;
}

/** Causal attention of one new query per sequence against its cached keys/values: stores the new
 * token's k and v (from qkv, n×3C) at its position, then out[i] = softmax(q·Kᵀ/sqrt(hs))·V over
 * positions 0..positions[i] of cache slot slots[i]. */
function attendToCache(out: Float32Array, qkv: Float32Array, kc: Float32Array, vc: Float32Array,
  slots: readonly number[], positions: readonly number[], n: number, C: number, H: number, ctx: number,
  scores: Float64Array, acc: Float64Array): void {
  const hs = C / H;
  const scale = 1 / Math.sqrt(hs);
  for (let i = 0; i < n; i++) {
    const q = i * 3 * C;
    const base = slots[i]! * ctx * C;
    const pos = positions[i]!;
    kc.set(qkv.subarray(q + C, q + 2 * C), base + pos * C);
    vc.set(qkv.subarray(q + 2 * C, q + 3 * C), base + pos * C);
    for (let h = 0; h < H; h++) {
      const qh = q + h * hs;
      let max = -Infinity;
      for (let t = 0, k = base + h * hs; t <= pos; t++, k += C) {
        const s = dot(qkv, qh, kc, k, hs) * scale;
        scores[t] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let t = 0; t <= pos; t++) {
        const e = Math.exp(scores[t]! - max);
        scores[t] = e;
        sum += e;
      }
      acc.fill(0, 0, hs);
      for (let t = 0, v = base + h * hs; t <= pos; t++, v += C) {
        const p = scores[t]! / sum;
        for (let d = 0; d < hs; d++) acc[d] += p * vc[v + d]!;
      }
      const o = i * C + h * hs;
      for (let d = 0; d < hs; d++) out[o + d] = acc[d]!;
    }
  }
}

/** Σ a[aOff + d]·b[bOff + d] for d < len, four partial sums (independent adds pipeline better). */
function dot(a: Float32Array, aOff: number, b: Float32Array, bOff: number, len: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  const len4 = len - (len % 4);
  let d = 0;
  for (; d < len4; d += 4) {
    s0 += a[aOff + d]! * b[bOff + d]!;
    s1 += a[aOff + d + 1]! * b[bOff + d + 1]!;
    s2 += a[aOff + d + 2]! * b[bOff + d + 2]!;
    s3 += a[aOff + d + 3]! * b[bOff + d + 3]!;
  }
  for (; d < len; d++) s0 += a[aOff + d]! * b[bOff + d]!;
  return (s0 + s1) + (s2 + s3);
}
