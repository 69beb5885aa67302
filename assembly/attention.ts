// Causal multi-head attention, one (batch, head) pair at a time: the score and value products run
// through the blocked gemm on strided slices of qkv, skipping tiles the causal mask makes zero;
// softmax and its backward are row passes with vector exp. Threads split the B·H heads.
import { gemm, gemmScratchBytes, TRI_LOWER_K, TRI_LOWER_OUT, TRI_UPPER_K } from './gemm';
import { hmax, hsum, madd, sexp, vexp } from './simd';
import { at, argInt, argPtr, partStart } from './args';

/** Scratch bytes one thread needs. */
export function attentionScratchBytes(T: i32, C: i32, H: i32): usize {
  const n = max(T, C / H);
  return gemmScratchBytes(n, n);
}

/** row[0..n) ← softmax(row[0..n)·scale), computed as exp((x − max)·scale) / sum. */
function softmaxInPlace(row: usize, n: i32, scale: f32): void {
  const vscale = f32x4.splat(scale);
  const n4 = n & ~3;
  let vm = f32x4.splat(-Infinity);
  for (let j = 0; j < n4; j += 4) vm = f32x4.pmax(vm, v128.load(row + (<usize>j << 2)));
  let m = hmax(vm);
  for (let j = n4; j < n; j++) m = max(m, load<f32>(row + (<usize>j << 2)));
  const vmax = f32x4.splat(m);
  let vs = f32x4.splat(0);
  for (let j = 0; j < n4; j += 4) {
    const e = vexp(f32x4.mul(f32x4.sub(v128.load(row + (<usize>j << 2)), vmax), vscale));
    v128.store(row + (<usize>j << 2), e);
    vs = f32x4.add(vs, e);
  }
  let s = hsum(vs);
  for (let j = n4; j < n; j++) {
    const e = sexp((load<f32>(row + (<usize>j << 2)) - m) * scale);
    store<f32>(row + (<usize>j << 2), e);
    s += e;
  }
  const inv = <f32>1 / s;
  const vinv = f32x4.splat(inv);
  for (let j = 0; j < n4; j += 4) v128.store(row + (<usize>j << 2), f32x4.mul(v128.load(row + (<usize>j << 2)), vinv));
  for (let j = n4; j < n; j++) store<f32>(row + (<usize>j << 2), load<f32>(row + (<usize>j << 2)) * inv);
}

/** Row t of the T×T block p: scaled causal softmax of p[0..t]; entries after t are set to 0. */
function softmaxRows(p: usize, T: i32, scale: f32): void {
  for (let t = 0; t < T; t++) {
    const row = p + (<usize>t * <usize>T << 2);
    softmaxInPlace(row, t + 1, scale);
    for (let j = t + 1; j < T; j++) store<f32>(row + (<usize>j << 2), 0);
  }
}

/** In place d ← p·(d − Σ p·d)·scale over the causal part of each row, 0 after it. */
function softmaxBackwardRows(d: usize, p: usize, T: i32, scale: f32): void {
  const vscale = f32x4.splat(scale);
  for (let t = 0; t < T; t++) {
    const ofs = <usize>t * <usize>T << 2;
    const dr = d + ofs, pr = p + ofs;
    const n = t + 1, n4 = n & ~3;
    let vd = f32x4.splat(0);
    for (let j = 0; j < n4; j += 4) {
      vd = f32x4.add(vd, f32x4.mul(v128.load(pr + (<usize>j << 2)), v128.load(dr + (<usize>j << 2))));
    }
    let dot = hsum(vd);
    for (let j = n4; j < n; j++) dot += load<f32>(pr + (<usize>j << 2)) * load<f32>(dr + (<usize>j << 2));
    const vdot = f32x4.splat(dot);
    for (let j = 0; j < n4; j += 4) {
      const x = f32x4.sub(v128.load(dr + (<usize>j << 2)), vdot);
      v128.store(dr + (<usize>j << 2), f32x4.mul(f32x4.mul(v128.load(pr + (<usize>j << 2)), x), vscale));
    }
    for (let j = n4; j < n; j++) {
      store<f32>(dr + (<usize>j << 2), load<f32>(pr + (<usize>j << 2)) * (load<f32>(dr + (<usize>j << 2)) - dot) * scale);
    }
    for (let j = n; j < T; j++) store<f32>(dr + (<usize>j << 2), 0);
  }
}

/** Backend.attentionForward. args: out, att, qkv, B, T, C, H, scratch, scratch stride. */
export function attentionForward(args: usize, tid: i32, nt: i32): void {
  const out = argPtr(args, 0), att = argPtr(args, 1), qkv = argPtr(args, 2);
  const B = argInt(args, 3), T = argInt(args, 4), C = argInt(args, 5), H = argInt(args, 6);
  const scratch = argPtr(args, 7) + <usize>tid * argPtr(args, 8);
  const hs = C / H, C3 = 3 * C;
  const scale = <f32>(1 / Math.sqrt(<f64>hs));
  const n0 = partStart(B * H, tid, nt), n1 = partStart(B * H, tid + 1, nt);
  for (let bh = n0; bh < n1; bh++) {
    const b = bh / H, h = bh % H;
    const q = at(qkv, b * T * C3 + h * hs), k = at(q, C), v = at(q, 2 * C);
    const p = at(att, bh * T * T);
    // S = Q·Kᵀ (lower triangle), then P = softmax(S·scale), then out = P·V.
    gemm(p, T, q, C3, 1, k, 1, C3, T, hs, 0, T, 0, T, false, TRI_LOWER_OUT, false, scratch);
    softmaxRows(p, T, scale);
    gemm(at(out, b * T * C + h * hs), C, p, T, 1, v, C3, 1, T, T, 0, T, 0, hs, false, TRI_LOWER_K, false, scratch);
  }
}

/** Backend.attentionBackward. args: dqkv, datt, dout, qkv, att, B, T, C, H, scratch, scratch stride. */
export function attentionBackward(args: usize, tid: i32, nt: i32): void {
  const dqkv = argPtr(args, 0), datt = argPtr(args, 1), dout = argPtr(args, 2), qkv = argPtr(args, 3), att = argPtr(args, 4);
  const B = argInt(args, 5), T = argInt(args, 6), C = argInt(args, 7), H = argInt(args, 8);
  const scratch = argPtr(args, 9) + <usize>tid * argPtr(args, 10);
  const hs = C / H, C3 = 3 * C;
  const scale = <f32>(1 / Math.sqrt(<f64>hs));
  const n0 = partStart(B * H, tid, nt), n1 = partStart(B * H, tid + 1, nt);
  for (let bh = n0; bh < n1; bh++) {
    const b = bh / H, h = bh % H;
    const q = at(qkv, b * T * C3 + h * hs), k = at(q, C), v = at(q, 2 * C);
    const dq = at(dqkv, b * T * C3 + h * hs), dk = at(dq, C), dv = at(dq, 2 * C);
    const p = at(att, bh * T * T), dp = at(datt, bh * T * T);
    const dO = at(dout, b * T * C + h * hs);
    // dP = dO·Vᵀ, dV += Pᵀ·dO, dS = softmax'(dP), dQ += dS·K, dK += dSᵀ·Q.
    gemm(dp, T, dO, C, 1, v, 1, C3, T, hs, 0, T, 0, T, false, TRI_LOWER_OUT, false, scratch);
    gemm(dv, C3, p, 1, T, dO, C, 1, T, T, 0, T, 0, hs, true, TRI_UPPER_K, false, scratch);
    softmaxBackwardRows(dp, p, T, scale);
    gemm(dq, C3, dp, T, 1, k, C3, 1, T, T, 0, T, 0, hs, true, TRI_LOWER_K, false, scratch);
    gemm(dk, C3, dp, 1, T, q, C3, 1, T, T, 0, T, 0, hs, true, TRI_UPPER_K, false, scratch);
  }
}

/** scores[t] = q·k_t for t0 ≤ t < t1, keys `stride` bytes apart, hs floats each. Four keys at a
 * time: four running sums, then one 4×4 transpose-add gives the four scores in one vector (a
 * quarter of the horizontal sums; each score rounds the same as a single one). */
function scoreKeys(scores: usize, q: usize, k: usize, stride: usize, t0: i32, t1: i32, hs: i32): void {
  const hs4 = hs & ~3;
  let t = t0;
  for (; t + 4 <= t1; t += 4) {
    const k0 = k + <usize>t * stride, k1 = k0 + stride, k2 = k1 + stride, k3 = k2 + stride;
    let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
    for (let d = 0; d < hs4; d += 4) {
      const o = <usize>d << 2;
      const qv = v128.load(q + o);
      s0 = madd(qv, v128.load(k0 + o), s0);
      s1 = madd(qv, v128.load(k1 + o), s1);
      s2 = madd(qv, v128.load(k2 + o), s2);
      s3 = madd(qv, v128.load(k3 + o), s3);
    }
    const a = f32x4.add(i32x4.shuffle(s0, s1, 0, 4, 1, 5), i32x4.shuffle(s0, s1, 2, 6, 3, 7));
    const b = f32x4.add(i32x4.shuffle(s2, s3, 0, 4, 1, 5), i32x4.shuffle(s2, s3, 2, 6, 3, 7));
    let r = f32x4.add(i32x4.shuffle(a, b, 0, 1, 4, 5), i32x4.shuffle(a, b, 2, 3, 6, 7));
    if (hs4 < hs) {
      // Odd head sizes: the tail columns of the four keys, added lane by lane.
      let tail = f32x4.splat(0);
      for (let d = hs4; d < hs; d++) {
        const o = <usize>d << 2;
        const qd = load<f32>(q + o);
        tail = f32x4.replace_lane(tail, 0, f32x4.extract_lane(tail, 0) + qd * load<f32>(k0 + o));
        tail = f32x4.replace_lane(tail, 1, f32x4.extract_lane(tail, 1) + qd * load<f32>(k1 + o));
        tail = f32x4.replace_lane(tail, 2, f32x4.extract_lane(tail, 2) + qd * load<f32>(k2 + o));
        tail = f32x4.replace_lane(tail, 3, f32x4.extract_lane(tail, 3) + qd * load<f32>(k3 + o));
      }
      r = f32x4.add(r, tail);
    }
    v128.store(scores + (<usize>t << 2), r);
  }
  for (; t < t1; t++) {
    const kt = k + <usize>t * stride;
    let v = f32x4.splat(0);
    for (let d = 0; d < hs4; d += 4) v = madd(v128.load(q + (<usize>d << 2)), v128.load(kt + (<usize>d << 2)), v);
    let sum = hsum(v);
    for (let d = hs4; d < hs; d++) sum += load<f32>(q + (<usize>d << 2)) * load<f32>(kt + (<usize>d << 2));
    store<f32>(scores + (<usize>t << 2), sum);
  }
}

/** out[0..hs) (+)= Σ_{t0≤t<t1} p[t]·v_t, values `stride` bytes apart: eight columns' sums stay in
 * registers across the pass over t. keep: add to out (the sums of earlier t, in t order, so a pass
 * split in t ranges rounds exactly like one pass). */
function weightValues(out: usize, p: usize, v: usize, stride: usize, t0: i32, t1: i32, hs: i32, keep: bool): void {
  let d = 0;
  const o0 = out;
  for (; d + 32 <= hs; d += 32) {
    let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    if (keep) {
      const o = o0 + (<usize>d << 2);
      a0 = v128.load(o); a1 = v128.load(o, 16); a2 = v128.load(o, 32); a3 = v128.load(o, 48);
      a4 = v128.load(o, 64); a5 = v128.load(o, 80); a6 = v128.load(o, 96); a7 = v128.load(o, 112);
    }
    let vp = v + <usize>t0 * stride + (<usize>d << 2);
    for (let t = t0; t < t1; t++) {
      const w = v128.load32_splat(p + (<usize>t << 2));
      a0 = madd(w, v128.load(vp), a0); a1 = madd(w, v128.load(vp, 16), a1);
      a2 = madd(w, v128.load(vp, 32), a2); a3 = madd(w, v128.load(vp, 48), a3);
      a4 = madd(w, v128.load(vp, 64), a4); a5 = madd(w, v128.load(vp, 80), a5);
      a6 = madd(w, v128.load(vp, 96), a6); a7 = madd(w, v128.load(vp, 112), a7);
      vp += stride;
    }
    const o = out + (<usize>d << 2);
    v128.store(o, a0); v128.store(o, a1, 16); v128.store(o, a2, 32); v128.store(o, a3, 48);
    v128.store(o, a4, 64); v128.store(o, a5, 80); v128.store(o, a6, 96); v128.store(o, a7, 112);
  }
  for (; d + 4 <= hs; d += 4) {
    let acc = keep ? v128.load(out + (<usize>d << 2)) : f32x4.splat(0);
    let vp = v + <usize>t0 * stride + (<usize>d << 2);
    for (let t = t0; t < t1; t++) {
      acc = madd(v128.load32_splat(p + (<usize>t << 2)), v128.load(vp), acc);
      vp += stride;
    }
    v128.store(out + (<usize>d << 2), acc);
  }
  for (; d < hs; d++) {
    let acc: f32 = keep ? load<f32>(out + (<usize>d << 2)) : 0;
    for (let t = t0; t < t1; t++) acc += load<f32>(p + (<usize>t << 2)) * load<f32>(v + <usize>t * stride + (<usize>d << 2));
    store<f32>(out + (<usize>d << 2), acc);
  }
}

/** Cached positions per block of attendRow: 16 rows of keys or values (8 KiB at C = 128) stay in
 * L1 while every head takes its columns from them. */
const TB: i32 = 16;

/** Attention of one new query per sequence against a KV cache (incremental decoding). args: out
 * (n×C), qkv (n×3C), kcache, vcache (slots×ctx×C), slots, positions (n int32 each), n, ctx, C, H,
 * scratch, scratch stride. Sequence i first stores its k and v at position positions[i] of slot
 * slots[i], then out[i] = softmax(q·Kᵀ/√hs)·V over positions 0..positions[i]. Threads split the
 * sequences (each sequence owns its slot, so the cache writes never collide). */
export function attentionDecode(args: usize, tid: i32, nt: i32): void {
  const out = argPtr(args, 0), qkv = argPtr(args, 1), kc = argPtr(args, 2), vc = argPtr(args, 3);
  const slots = argPtr(args, 4), positions = argPtr(args, 5);
  const n = argInt(args, 6), ctx = argInt(args, 7), C = argInt(args, 8), H = argInt(args, 9);
  const scores = argPtr(args, 10) + <usize>tid * argPtr(args, 11);
  const i0 = partStart(n, tid, nt), i1 = partStart(n, tid + 1, nt);
  for (let i = i0; i < i1; i++) {
    const slot = load<i32>(slots + (<usize>i << 2)), pos = load<i32>(positions + (<usize>i << 2));
    attendRow(out, qkv, kc, vc, i, slot, pos, ctx, C, H, scores);
  }
}

/** Sequence i of attentionDecode: store its k and v at position pos of cache slot `slot`, then
 * attend over positions 0..pos. scores: H·ctx floats. The cache is read in blocks of TB whole
 * positions (all heads) rather than head by head: one sequential stream instead of H strided
 * ones, which is what decoding waits on when the cache of a large batch is out of L2. */
export function attendRow(out: usize, qkv: usize, kc: usize, vc: usize, i: i32, slot: i32, pos: i32,
  ctx: i32, C: i32, H: i32, scores: usize): void {
  const hs = C / H;
  const scale = <f32>(1 / Math.sqrt(<f64>hs));
  const rowBytes = <usize>C << 2;
  const q = at(qkv, i * 3 * C);
  const kbase = at(kc, slot * ctx * C), vbase = at(vc, slot * ctx * C);
  const o = at(out, i * C);
  const n = pos + 1;
  const sh = <usize>ctx << 2;
  memory.copy(kbase + <usize>pos * rowBytes, q + rowBytes, rowBytes);
  memory.copy(vbase + <usize>pos * rowBytes, q + 2 * rowBytes, rowBytes);
  for (let t0 = 0; t0 < n; t0 += TB) {
    const t1 = min(n, t0 + TB);
    for (let h = 0; h < H; h++) scoreKeys(scores + <usize>h * sh, at(q, h * hs), at(kbase, h * hs), rowBytes, t0, t1, hs);
  }
  for (let h = 0; h < H; h++) softmaxInPlace(scores + <usize>h * sh, n, scale);
  for (let t0 = 0; t0 < n; t0 += TB) {
    const t1 = min(n, t0 + TB);
    for (let h = 0; h < H; h++) weightValues(at(o, h * hs), scores + <usize>h * sh, at(vbase, h * hs), rowBytes, t0, t1, hs, t0 > 0);
  }
}
