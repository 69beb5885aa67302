// General matrix product on strided operands: C (M×N) (+)= A (M×K) · B (K×N), every operand
// addressed by element strides, so transposed operands and the per-head slices of attention use the
// same code. Blocked like BLIS: B is packed in panels of NR columns (zero padded) for each K block,
// A in strips of MR rows, and an MR×NR register tile accumulates over the block. Every output
// element is summed over k in the same order whichever tile, block or thread computes it, so
// results do not depend on the shape of the batch or the number of threads.
import { madd } from './simd';
import { at, argInt, argPtr, partStart } from './args';

/** Register tile: 3×12 with fused multiply-add (9 accumulators + 3 B vectors + 1 broadcast fit the
 * 16 SIMD registers without spills), 4×8 with separate multiply and add (one more temporary). */
export const MR: i32 = ASC_FEATURE_RELAXED_SIMD ? 3 : 4;
export const NR: i32 = ASC_FEATURE_RELAXED_SIMD ? 12 : 8;
/** K block: a B panel (KC×NR) stays in L1 while the A block (MC×KC) streams from L2. */
export const KC: i32 = 512;
export const MC: i32 = 120;

/** Output triangle / k-range restrictions for causal attention (square M = N or M = K). */
export const TRI_NONE: i32 = 0;
/** Only C[i][j] with j ≤ i is needed: tiles entirely above the diagonal are skipped (left as is). */
export const TRI_LOWER_OUT: i32 = 1;
/** A[i][k] = 0 for k > i: row strip i0.. sums only k < i0 + MR. */
export const TRI_LOWER_K: i32 = 2;
/** A[i][k] = 0 for k < i: row strip i0.. sums only k ≥ i0. */
export const TRI_UPPER_K: i32 = 3;

const TILE_BYTES: usize = 64 * 4; // MR·NR floats rounded up

/** Scratch bytes one thread needs for a product with N columns and depth K. */
export function gemmScratchBytes(N: i32, K: i32): usize {
  const kc = <usize>min(K, KC);
  const npad = <usize>((N + NR - 1) / NR * NR);
  return TILE_BYTES + kc * npad * 4 + <usize>MC * kc * 4 + 64;
}

// Register tiles of MR rows × V vectors (V·4 columns), V a compile-time constant after inlining
// (binaryen folds the V tests). Every output element gets the same sequence of multiply-adds
// whatever V, so narrower edge tiles round exactly like full ones.

@inline function tileR3(V: i32, packed: bool, a0: usize, a1: usize, a2: usize, ak: usize, b: usize, kc: i32, c: usize, ldc: usize, keep: bool): void {
  const z = f32x4.splat(0);
  let c00 = z, c01 = z, c02 = z, c10 = z, c11 = z, c12 = z, c20 = z, c21 = z, c22 = z;
  const r1 = c + ldc, r2 = c + 2 * ldc;
  if (keep) {
    c00 = v128.load(c); c10 = v128.load(r1); c20 = v128.load(r2);
    if (V > 1) { c01 = v128.load(c, 16); c11 = v128.load(r1, 16); c21 = v128.load(r2, 16); }
    if (V > 2) { c02 = v128.load(c, 32); c12 = v128.load(r1, 32); c22 = v128.load(r2, 32); }
  }
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(b);
    const b1 = V > 1 ? v128.load(b, 16) : z;
    const b2 = V > 2 ? v128.load(b, 32) : z;
    let x = v128.load32_splat(a0);
    c00 = madd(x, b0, c00);
    if (V > 1) c01 = madd(x, b1, c01);
    if (V > 2) c02 = madd(x, b2, c02);
    x = packed ? v128.load32_splat(a0, 4) : v128.load32_splat(a1);
    c10 = madd(x, b0, c10);
    if (V > 1) c11 = madd(x, b1, c11);
    if (V > 2) c12 = madd(x, b2, c12);
    x = packed ? v128.load32_splat(a0, 8) : v128.load32_splat(a2);
    c20 = madd(x, b0, c20);
    if (V > 1) c21 = madd(x, b1, c21);
    if (V > 2) c22 = madd(x, b2, c22);
    a0 += ak; b += <usize>NR << 2;
    if (!packed) { a1 += ak; a2 += ak; }
  }
  v128.store(c, c00); v128.store(r1, c10); v128.store(r2, c20);
  if (V > 1) { v128.store(c, c01, 16); v128.store(r1, c11, 16); v128.store(r2, c21, 16); }
  if (V > 2) { v128.store(c, c02, 32); v128.store(r1, c12, 32); v128.store(r2, c22, 32); }
}

@inline function tileR4(V: i32, packed: bool, a0: usize, a1: usize, a2: usize, a3: usize, ak: usize, b: usize, kc: i32, c: usize, ldc: usize, keep: bool): void {
  const z = f32x4.splat(0);
  let c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
  const r1 = c + ldc, r2 = c + 2 * ldc, r3 = c + 3 * ldc;
  if (keep) {
    c00 = v128.load(c); c10 = v128.load(r1); c20 = v128.load(r2); c30 = v128.load(r3);
    if (V > 1) { c01 = v128.load(c, 16); c11 = v128.load(r1, 16); c21 = v128.load(r2, 16); c31 = v128.load(r3, 16); }
  }
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(b);
    const b1 = V > 1 ? v128.load(b, 16) : z;
    let x = v128.load32_splat(a0);
    c00 = madd(x, b0, c00);
    if (V > 1) c01 = madd(x, b1, c01);
    x = packed ? v128.load32_splat(a0, 4) : v128.load32_splat(a1);
    c10 = madd(x, b0, c10);
    if (V > 1) c11 = madd(x, b1, c11);
    x = packed ? v128.load32_splat(a0, 8) : v128.load32_splat(a2);
    c20 = madd(x, b0, c20);
    if (V > 1) c21 = madd(x, b1, c21);
    x = packed ? v128.load32_splat(a0, 12) : v128.load32_splat(a3);
    c30 = madd(x, b0, c30);
    if (V > 1) c31 = madd(x, b1, c31);
    a0 += ak; b += <usize>NR << 2;
    if (!packed) { a1 += ak; a2 += ak; a3 += ak; }
  }
  v128.store(c, c00); v128.store(r1, c10); v128.store(r2, c20); v128.store(r3, c30);
  if (V > 1) { v128.store(c, c01, 16); v128.store(r1, c11, 16); v128.store(r2, c21, 16); v128.store(r3, c31, 16); }
}

/** C tile (MR rows × 4·nv columns, row stride ldc bytes) (+)= Σ_k A[r][k]·Bpanel[k][·]; row r of A
 * starts at a_r and steps ak bytes per k; the B panel rows are NR floats apart. Kept out of line so
 * each loop gets the whole register file. */
function tile(nv: i32, a0: usize, a1: usize, a2: usize, a3: usize, ak: usize, b: usize, kc: i32, c: usize, ldc: usize, keep: bool): void {
  if (ASC_FEATURE_RELAXED_SIMD) {
    if (nv >= 3) tileR3(3, false, a0, a1, a2, ak, b, kc, c, ldc, keep);
    else if (nv == 2) tileR3(2, false, a0, a1, a2, ak, b, kc, c, ldc, keep);
    else tileR3(1, false, a0, a1, a2, ak, b, kc, c, ldc, keep);
  } else {
    if (nv >= 2) tileR4(2, false, a0, a1, a2, a3, ak, b, kc, c, ldc, keep);
    else tileR4(1, false, a0, a1, a2, a3, ak, b, kc, c, ldc, keep);
  }
}

/** tile() for a packed A strip (MR floats per k at a). */
function tilePacked(nv: i32, a: usize, b: usize, kc: i32, c: usize, ldc: usize, keep: bool): void {
  const ak = <usize>MR << 2;
  if (ASC_FEATURE_RELAXED_SIMD) {
    if (nv >= 3) tileR3(3, true, a, 0, 0, ak, b, kc, c, ldc, keep);
    else if (nv == 2) tileR3(2, true, a, 0, 0, ak, b, kc, c, ldc, keep);
    else tileR3(1, true, a, 0, 0, ak, b, kc, c, ldc, keep);
  } else {
    if (nv >= 2) tileR4(2, true, a, 0, 0, 0, ak, b, kc, c, ldc, keep);
    else tileR4(1, true, a, 0, 0, 0, ak, b, kc, c, ldc, keep);
  }
}

/** Packs B[kb..kb+kc][j0..j1] as panels of NR columns, each kc rows of NR floats, zero padded. */
function packB(dst: usize, b: usize, sbk: i32, sbj: i32, kb: i32, kc: i32, j0: i32, j1: i32): void {
  const rowBytes = <usize>NR << 2;
  for (let jp = j0; jp < j1; jp += NR) {
    const nr = min(NR, j1 - jp);
    if (sbj == 1 && nr == NR) {
      for (let k = 0; k < kc; k++) {
        const s = at(b, (kb + k) * sbk + jp);
        const d = dst + <usize>k * rowBytes;
        for (let v = 0; v < NR; v += 4) v128.store(d + (<usize>v << 2), v128.load(s + (<usize>v << 2)));
      }
    } else if (sbk == 1) {
      // Columns of B are contiguous (B transposed in memory): read along k.
      for (let j = 0; j < NR; j++) {
        const d = dst + (<usize>j << 2);
        if (j < nr) {
          const s = at(b, (jp + j) * sbj + kb);
          for (let k = 0; k < kc; k++) store<f32>(d + <usize>k * rowBytes, load<f32>(s + (<usize>k << 2)));
        } else {
          for (let k = 0; k < kc; k++) store<f32>(d + <usize>k * rowBytes, 0);
        }
      }
    } else {
      for (let k = 0; k < kc; k++) {
        const d = dst + <usize>k * rowBytes;
        for (let j = 0; j < NR; j++) {
          store<f32>(d + (<usize>j << 2), j < nr ? load<f32>(at(b, (kb + k) * sbk + (jp + j) * sbj)) : 0);
        }
      }
    }
    dst += <usize>kc * rowBytes;
  }
}

/** Packs A[ic..ic+mc][kb..kb+kc] as strips of MR rows, each kc columns of MR floats, zero padded. */
function packA(dst: usize, a: usize, sai: i32, sak: i32, ic: i32, mc: i32, kb: i32, kc: i32): void {
  const colBytes = <usize>MR << 2;
  for (let s = 0; s < mc; s += MR) {
    const mr = min(MR, mc - s);
    const d = dst + (<usize>s * <usize>kc << 2);
    if (sai == 1 && mr == MR) {
      // A transposed in memory: the MR rows of one k are adjacent.
      for (let k = 0; k < kc; k++) {
        const src = at(a, ic + s + (kb + k) * sak);
        for (let r = 0; r < MR; r++) store<f32>(d + <usize>k * colBytes + (<usize>r << 2), load<f32>(src + (<usize>r << 2)));
      }
    } else {
      for (let r = 0; r < MR; r++) {
        const dr = d + (<usize>r << 2);
        if (r < mr) {
          const src = at(a, (ic + s + r) * sai + kb * sak);
          const step = <usize>sak << 2;
          for (let k = 0; k < kc; k++) store<f32>(dr + <usize>k * colBytes, load<f32>(src + <usize>k * step));
        } else {
          for (let k = 0; k < kc; k++) store<f32>(dr + <usize>k * colBytes, 0);
        }
      }
    }
  }
}

@inline function copyRow(dst: usize, src: usize, n: i32): void {
  let j = 0;
  for (; j + 4 <= n; j += 4) v128.store(dst + (<usize>j << 2), v128.load(src + (<usize>j << 2)));
  for (; j < n; j++) store<f32>(dst + (<usize>j << 2), load<f32>(src + (<usize>j << 2)));
}

/** Floats of B (K×N) packed whole by packWeights: for each K block, ⌈N/NR⌉ panels of kc×NR. */
export function packedSize(K: i32, N: i32): i32 {
  return K * ((N + NR - 1) / NR * NR);
}

/** C[i][j] (+)= Σ_k A[i][k]·B[k][j] for rows i0 ≤ i < i1 and columns j0 ≤ j < j1 (j0 a multiple of
 * NR when a thread takes a column range). Element (x, y) of an operand with strides (sx, sy) is at
 * base + 4·(x·sx + y·sy); C has row stride ldc. packA copies A blocks (dense and zero padded, worth
 * it for large products); without it rows past M re-read row M−1 and their results are dropped.
 * prepacked: b is the whole of B packed by packWeights (N columns; sbk, sbj unused), so no B is
 * copied per call. scratch: gemmScratchBytes(N, K) bytes, 64-byte aligned (TILE_BYTES when B is
 * prepacked and A not packed). */
export function gemm(c: usize, ldc: i32, a: usize, sai: i32, sak: i32, b: usize, sbk: i32, sbj: i32,
  M: i32, K: i32, i0: i32, i1: i32, j0: i32, j1: i32, accumulate: bool, tri: i32, pack: bool, scratch: usize,
  prepacked: bool = false, N: i32 = 0): void {
  if (i0 >= i1 || j0 >= j1) return;
  const tmp = scratch;
  let bpk = scratch + TILE_BYTES;
  const kcMax = min(K, KC);
  const apk = bpk + (<usize>kcMax * <usize>((j1 - j0 + NR - 1) / NR * NR) << 2);
  const ldcBytes = <usize>ldc << 2;
  const tmpLd = <usize>NR << 2;
  const npad = (N + NR - 1) / NR * NR;
  // K = 0 still has to clear C (when not accumulating): one empty block.
  for (let kb = 0; kb < K || (kb == 0 && K == 0); kb += KC) {
    const kc = min(KC, K - kb);
    const keep = accumulate || kb > 0;
    // Prepacked: this block's panels start at kb·npad floats; panel jp sits at jp·kc within it.
    if (prepacked) bpk = b + (<usize>kb * <usize>npad << 2) + (<usize>j0 * <usize>kc << 2);
    else packB(bpk, b, sbk, sbj, kb, kc, j0, j1);
    for (let ic = i0; ic < i1; ic += MC) {
      const mc = min(MC, i1 - ic);
      if (pack) packA(apk, a, sai, sak, ic, mc, kb, kc);
      for (let jp = j0; jp < j1; jp += NR) {
        const nr = min(NR, j1 - jp);
        const panel = bpk + (<usize>(jp - j0) * <usize>kc << 2);
        for (let is = ic; is < ic + mc; is += MR) {
          const mr = min(MR, ic + mc - is);
          if (tri == TRI_LOWER_OUT && jp > is + mr - 1) continue;
          let klo = 0, khi = kc;
          if (tri == TRI_LOWER_K) khi = max(0, min(kc, is + mr - kb));
          else if (tri == TRI_UPPER_K) klo = max(0, min(kc, is - kb));
          const n = max(0, khi - klo);
          let a0: usize, a1: usize, a2: usize, a3: usize, ak: usize;
          if (pack) {
            ak = <usize>MR << 2;
            a0 = apk + (<usize>(is - ic) * <usize>kc << 2) + <usize>klo * ak;
            a1 = a0 + 4; a2 = a0 + 8; a3 = a0 + 12;
          } else {
            ak = <usize>sak << 2;
            const kofs = (kb + klo) * sak;
            a0 = at(a, is * sai + kofs);
            a1 = at(a, min(is + 1, M - 1) * sai + kofs);
            a2 = at(a, min(is + 2, M - 1) * sai + kofs);
            a3 = at(a, min(is + 3, M - 1) * sai + kofs);
          }
          const bp = panel + (<usize>klo * <usize>NR << 2);
          const cp = c + (<usize>is * ldcBytes) + (<usize>jp << 2);
          const nv = (nr + 3) >> 2;
          if (mr == MR && (nr & 3) == 0) {
            if (pack) tilePacked(nv, a0, bp, n, cp, ldcBytes, keep);
            else tile(nv, a0, a1, a2, a3, ak, bp, n, cp, ldcBytes, keep);
          } else {
            // Edge tile: the same register tile on a zero-padded copy (no garbage, so no denormals).
            if (keep) {
              for (let r = 0; r < MR; r++) {
                const t = tmp + <usize>r * tmpLd;
                for (let j = 0; j < NR; j += 4) v128.store(t + (<usize>j << 2), f32x4.splat(0));
                if (r < mr) copyRow(t, cp + <usize>r * ldcBytes, nr);
              }
            }
            if (pack) tilePacked(nv, a0, bp, n, tmp, tmpLd, keep);
            else tile(nv, a0, a1, a2, a3, ak, bp, n, tmp, tmpLd, keep);
            for (let r = 0; r < mr; r++) copyRow(cp + <usize>r * ldcBytes, tmp + <usize>r * tmpLd, nr);
          }
        }
      }
    }
    if (K == 0) break;
  }
}

/** Backend.matmul. args: C, A, B, M, N, K, transA, transB, accumulate, scratch, scratch stride.
 * Threads split the rows of C, or its columns when C is wider than tall (then each thread packs
 * only its own part of B, the larger operand). */
export function matmul(args: usize, tid: i32, nt: i32): void {
  const c = argPtr(args, 0), a = argPtr(args, 1), b = argPtr(args, 2);
  const M = argInt(args, 3), N = argInt(args, 4), K = argInt(args, 5);
  const transA = argInt(args, 6) != 0, transB = argInt(args, 7) != 0, accumulate = argInt(args, 8) != 0;
  const scratch = argPtr(args, 9) + <usize>tid * argPtr(args, 10);
  const sai = transA ? 1 : K, sak = transA ? M : 1;
  const sbk = transB ? 1 : N, sbj = transB ? K : 1;
  let i0 = 0, i1 = M, j0 = 0, j1 = N;
  if (nt > 1) {
    if (M < N) {
      const panels = (N + NR - 1) / NR;
      j0 = partStart(panels, tid, nt) * NR;
      j1 = min(N, partStart(panels, tid + 1, nt) * NR);
    } else {
      const strips = (M + MR - 1) / MR;
      i0 = partStart(strips, tid, nt) * MR;
      i1 = min(M, partStart(strips, tid + 1, nt) * MR);
    }
  }
  gemm(c, N, a, sai, sak, b, sbk, sbj, M, K, i0, i1, j0, j1, accumulate, TRI_NONE, true, scratch);
}

/** Packs a whole weight matrix B (K×N, or N×K stored when transB) in the layout gemm reads with
 * `prepacked` (packedSize(K, N) floats at dst). Done once before many products with the same
 * weights (decoding), instead of once per product. args: dst, B, K, N, transB. Threads split the
 * panels. */
export function packWeights(args: usize, tid: i32, nt: i32): void {
  const dst = argPtr(args, 0), b = argPtr(args, 1);
  const K = argInt(args, 2), N = argInt(args, 3), transB = argInt(args, 4) != 0;
  const sbk = transB ? 1 : N, sbj = transB ? K : 1;
  const panels = (N + NR - 1) / NR, npad = panels * NR;
  const j0 = partStart(panels, tid, nt) * NR, j1 = min(N, partStart(panels, tid + 1, nt) * NR);
  if (j0 >= j1) return;
  for (let kb = 0; kb < K; kb += KC) {
    const kc = min(KC, K - kb);
    packB(dst + (<usize>kb * <usize>npad << 2) + (<usize>j0 * <usize>kc << 2), b, sbk, sbj, kb, kc, j0, j1);
  }
}
