/** The compute backend contract of the embedded engine. The model (src/engine/model.ts) holds every
 * tensor in buffers from `alloc` and calls these kernels; the plain-JS backend is the reference and
 * fallback, the wasm backend the fast path. All arrays are row-major float32. Shapes follow llm.c:
 * B batch, T time, C channels, H heads (head size C/H), N rows, V vocabulary.
 *
 * Convention: "accumulate" outputs are added into (+=), everything else is overwritten. Kernels
 * are synchronous; a backend may split work over threads internally. */
export interface Backend {
  readonly name: string;
  /** Number of threads the backend computes with. */
  readonly threads: number;

  /** A zeroed float32 buffer the kernels can operate on (views into the backend's memory). */
  alloc(n: number): Float32Array;

  /** C (M×N) = op(A) · op(B), op(A) M×K, op(B) K×N. transA: A is stored K×M; transB: B is stored
   * N×K. accumulate: C += instead of C =. Forward x·W uses W stored (in×out); dX = dY·Wᵀ uses transB;
   * dW += Xᵀ·dY uses transA + accumulate. */
  matmul(C: Float32Array, A: Float32Array, B: Float32Array, M: number, N: number, K: number,
    transA: boolean, transB: boolean, accumulate: boolean): void;

  /** out = (inp − mean) · rstd · weight + bias per row; stores mean and rstd (N each) for backward. */
  layerNormForward(out: Float32Array, mean: Float32Array, rstd: Float32Array, inp: Float32Array,
    weight: Float32Array, bias: Float32Array, N: number, C: number): void;
  /** Accumulates dinp, dweight, dbias. */
  layerNormBackward(dinp: Float32Array, dweight: Float32Array, dbias: Float32Array, dout: Float32Array,
    inp: Float32Array, weight: Float32Array, mean: Float32Array, rstd: Float32Array, N: number, C: number): void;

  /** Causal multi-head attention. qkv: B×T×3C (q, k, v concatenated per token); out: B×T×C;
   * att: B×H×T×T softmax probabilities (kept for backward; entries above the diagonal are 0).
   * Scores are scaled by 1/sqrt(C/H). */
  attentionForward(out: Float32Array, att: Float32Array, qkv: Float32Array, B: number, T: number, C: number, H: number): void;
  /** Accumulates dqkv. datt (B×H×T×T) is scratch the kernel may overwrite. */
  attentionBackward(dqkv: Float32Array, datt: Float32Array, dout: Float32Array, qkv: Float32Array,
    att: Float32Array, B: number, T: number, C: number, H: number): void;

  /** GELU, tanh approximation (as GPT-2). */
  geluForward(out: Float32Array, inp: Float32Array, n: number): void;
  /** Accumulates dinp += gelu'(inp) · dout. */
  geluBackward(dinp: Float32Array, inp: Float32Array, dout: Float32Array, n: number): void;

  /** Optional: attention of one new query per sequence against a KV cache (incremental decoding).
   * qkv: n×3C (the new tokens' q, k, v); kcache, vcache: slots×ctx×C. Sequence i stores its k and v
   * at position positions[i] of cache slot slots[i], then out[i] (n×C) = softmax(q·Kᵀ/√hs)·V over
   * positions 0..positions[i] of that slot, per head. Slots must be distinct. Without it the model
   * runs the same computation as a JS loop. */
  attentionDecode?(out: Float32Array, qkv: Float32Array, kcache: Float32Array, vcache: Float32Array,
    slots: ArrayLike<number>, positions: ArrayLike<number>, n: number, ctx: number, C: number, H: number): void;

  /** Optional: a whole decoding step in one call (see DecodeNet). `packDecode` copies the weights
   * into whatever layout the backend's kernels read fastest, once per sampling call, reusing
   * `previous` (a plan of the same shapes) when given; the plan stays valid while the parameters
   * do not change. `decodeForward` then runs n sequences through the network: sequence i feeds
   * tokens[i] at position positions[i] of cache slot slots[i] (distinct), stores its keys and
   * values there, and gets its next-token logits in bufs.logits (n×V). Results match the
   * layer-by-layer kernels up to float32 rounding. */
  packDecode?(net: DecodeNet, previous?: DecodePlan): DecodePlan;
  decodeForward?(plan: DecodePlan, bufs: DecodeBuffers, tokens: ArrayLike<number>, slots: ArrayLike<number>,
    positions: ArrayLike<number>, n: number): void;

  /** One AdamW step over n parameters (decoupled weight decay, bias-corrected with step t ≥ 1). */
  adamw(params: Float32Array, grads: Float32Array, m: Float32Array, v: Float32Array, n: number,
    lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, t: number): void;
}

/** The network a fused decoding step runs: sizes, weight views (GPT-2 layout, as model.ts) and
 * the KV cache of every layer (slots×ctx×C). */
export interface DecodeNet {
  L: number; C: number; F: number; H: number; V: number; ctx: number;
  wte: Float32Array; wpe: Float32Array; lnfw: Float32Array; lnfb: Float32Array;
  /** V×C (logits = x·lmHeadᵀ). */
  lmHead: Float32Array;
  layers: readonly {
    ln1w: Float32Array; ln1b: Float32Array; qkvw: Float32Array; qkvb: Float32Array;
    attprojw: Float32Array; attprojb: Float32Array; ln2w: Float32Array; ln2b: Float32Array;
    fcw: Float32Array; fcb: Float32Array; fcprojw: Float32Array; fcprojb: Float32Array;
    k: Float32Array; v: Float32Array;
  }[];
}

/** Backend-owned state of packDecode (opaque to the model). */
export interface DecodePlan {
  readonly backend: Backend;
  /** Shapes it was packed for, to reuse it for the same model. */
  readonly key: string;
}

/** Activation scratch of a fused decoding step, at least n rows each. */
export interface DecodeBuffers {
  x: Float32Array; ln: Float32Array; qkv: Float32Array; atty: Float32Array; fch: Float32Array; logits: Float32Array;
}
