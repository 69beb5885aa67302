// One whole decoding step of the GPT (one new token per sequence, against the KV cache) in a single
// call. Rows (sequences) are independent through the whole network, so threads split the batch
// instead of every matrix product: each thread claims chunks of rows from a shared counter and runs
// them through every layer with no synchronisation in between (one hand-off per step instead of
// several per layer), and a thread that is descheduled simply claims fewer chunks. Weight matrices
// are packed once per sampling call (packWeights), not per product.
import { gemm, MR, TRI_NONE } from './gemm';
import { layerNormRows } from './layernorm';
import { geluRange } from './elementwise';
import { attendRow } from './attention';
import { at, argInt, argPtr } from './args';

/** The plan: an int32 table the host fills with sizes and byte offsets. */
const P_L = 0, P_C = 1, P_F = 2, P_H = 3, P_V = 4, P_CTX = 5;
const P_WTE = 6, P_WPE = 7, P_LNFW = 8, P_LNFB = 9, P_HEAD = 10;
/** Per layer, LAYER_WORDS words from P_LAYERS + l·LAYER_WORDS; weights marked (packed) are in the
 * packWeights layout, the caches are slots×ctx×C. */
const P_LAYERS = 16, LAYER_WORDS = 16;
const L_LN1W = 0, L_LN1B = 1, L_QKVW = 2, L_QKVB = 3, L_PROJW = 4, L_PROJB = 5, L_LN2W = 6, L_LN2B = 7;
const L_FCW = 8, L_FCB = 9, L_FCPROJW = 10, L_FCPROJB = 11, L_K = 12, L_V = 13;

/** Rows per chunk the host should use: a whole number of register-tile strips. */
export function decodeRowQuantum(): i32 {
  return MR;
}

@inline function word(plan: usize, i: i32): i32 {
  return load<i32>(plan + (<usize>i << 2));
}

@inline function wptr(plan: usize, i: i32): usize {
  return <usize>load<i32>(plan + (<usize>i << 2));
}

/** rows r0..r1 of out (width D) = bias, or += bias when `add`. */
function biasRows(out: usize, bias: usize, D: i32, r0: i32, r1: i32, add: bool): void {
  const D4 = D & ~3;
  for (let i = r0; i < r1; i++) {
    const o = at(out, i * D);
    for (let j = 0; j < D4; j += 4) {
      const ofs = <usize>j << 2;
      const b = v128.load(bias + ofs);
      v128.store(o + ofs, add ? f32x4.add(v128.load(o + ofs), b) : b);
    }
    for (let j = D4; j < D; j++) {
      const ofs = <usize>j << 2;
      const b = load<f32>(bias + ofs);
      store<f32>(o + ofs, add ? load<f32>(o + ofs) + b : b);
    }
  }
}

/** Rows r0..r1 of C (+)= A·W, A rows K wide, W prepacked K×N. */
@inline function linearRows(c: usize, a: usize, w: usize, K: i32, N: i32, r0: i32, r1: i32, accumulate: bool, tmp: usize): void {
  gemm(c, N, a, K, 1, w, 0, 0, r1, K, r0, r1, 0, N, accumulate, TRI_NONE, false, tmp, true, N);
}

/** The whole network for rows r0..r1: embedding, every block, final norm and the output head. */
function decodeRows(plan: usize, tokens: usize, slots: usize, positions: usize, x: usize, ln: usize, qkv: usize,
  atty: usize, fch: usize, logits: usize, tmp: usize, scores: usize, r0: i32, r1: i32): void {
  const L = word(plan, P_L), C = word(plan, P_C), F = word(plan, P_F), H = word(plan, P_H);
  const V = word(plan, P_V), ctx = word(plan, P_CTX);
  const wte = wptr(plan, P_WTE), wpe = wptr(plan, P_WPE);
  const C4 = C & ~3;
  for (let i = r0; i < r1; i++) {
    const tok = load<i32>(tokens + (<usize>i << 2)), pos = load<i32>(positions + (<usize>i << 2));
    const o = at(x, i * C), e = at(wte, tok * C), p = at(wpe, pos * C);
    for (let c = 0; c < C4; c += 4) {
      const ofs = <usize>c << 2;
      v128.store(o + ofs, f32x4.add(v128.load(e + ofs), v128.load(p + ofs)));
    }
    for (let c = C4; c < C; c++) {
      const ofs = <usize>c << 2;
      store<f32>(o + ofs, load<f32>(e + ofs) + load<f32>(p + ofs));
    }
  }
  for (let l = 0; l < L; l++) {
    const lw = plan + (<usize>(P_LAYERS + l * LAYER_WORDS) << 2);
    layerNormRows(ln, 0, 0, x, wptr(lw, L_LN1W), wptr(lw, L_LN1B), C, r0, r1, false);
    biasRows(qkv, wptr(lw, L_QKVB), 3 * C, r0, r1, false);
    linearRows(qkv, ln, wptr(lw, L_QKVW), C, 3 * C, r0, r1, true, tmp);
    const kc = wptr(lw, L_K), vc = wptr(lw, L_V);
    for (let i = r0; i < r1; i++) {
      attendRow(atty, qkv, kc, vc, i, load<i32>(slots + (<usize>i << 2)), load<i32>(positions + (<usize>i << 2)), ctx, C, H, scores);
    }
    // Residual adds go straight into x: x += b, then x += atty·W.
    biasRows(x, wptr(lw, L_PROJB), C, r0, r1, true);
    linearRows(x, atty, wptr(lw, L_PROJW), C, C, r0, r1, true, tmp);
    layerNormRows(ln, 0, 0, x, wptr(lw, L_LN2W), wptr(lw, L_LN2B), C, r0, r1, false);
    biasRows(fch, wptr(lw, L_FCB), F, r0, r1, false);
    linearRows(fch, ln, wptr(lw, L_FCW), C, F, r0, r1, true, tmp);
    geluRange(at(fch, 0), at(fch, 0), r0 * F, r1 * F);
    biasRows(x, wptr(lw, L_FCPROJB), C, r0, r1, true);
    linearRows(x, fch, wptr(lw, L_FCPROJW), F, C, r0, r1, true, tmp);
  }
  layerNormRows(ln, 0, 0, x, wptr(plan, P_LNFW), wptr(plan, P_LNFB), C, r0, r1, false);
  linearRows(logits, ln, wptr(plan, P_HEAD), C, V, r0, r1, false, tmp);
}

/** One decoding step for n sequences. args: plan, n, tokens, slots, positions (n int32 each), x
 * (n×C), ln (n×C), qkv (n×3C), atty (n×C), fch (n×F), logits (n×V), scratch, scratch stride,
 * row counter (int32, zeroed by the host), row quantum q. Per thread scratch: a register tile
 * (256 bytes) then H·ctx floats of attention scores.
 * Guided self-scheduling: a thread claims about 1/(2·nt) of the rows still unclaimed (a multiple
 * of q, at least 2q so every chunk reuses each weight panel over a few strips): big chunks first
 * keep the weight traffic low, small ones last even out the finish. */
export function decodeForward(args: usize, tid: i32, nt: i32): void {
  const plan = argPtr(args, 0), n = argInt(args, 1);
  const tokens = argPtr(args, 2), slots = argPtr(args, 3), positions = argPtr(args, 4);
  const x = argPtr(args, 5), ln = argPtr(args, 6), qkv = argPtr(args, 7), atty = argPtr(args, 8);
  const fch = argPtr(args, 9), logits = argPtr(args, 10);
  const tmp = argPtr(args, 11) + <usize>tid * argPtr(args, 12);
  const counter = argPtr(args, 13), q = argInt(args, 14);
  for (;;) {
    const r0 = atomic.load<i32>(counter);
    if (r0 >= n) break;
    const rest = n - r0;
    const size = nt == 1 ? rest : min(rest, max(2 * q, (rest + 2 * nt * q - 1) / (2 * nt * q) * q));
    if (atomic.cmpxchg<i32>(counter, r0, r0 + size) != r0) continue;
    decodeRows(plan, tokens, slots, positions, x, ln, qkv, atty, fch, logits, tmp, tmp + 256, r0, r0 + size);
  }
}
