/** Every kernel of the wasm backend against naive float64 loops written here from the contract,
 * with 1 and 2 threads and both SIMD variants (fused multiply-add and plain).
 *
 * Tolerances. A float32 dot product of K terms summed in sequence (with or without fused
 * multiply-add) has |error| ≤ γ·Σ|aᵢbᵢ| with γ = n·u/(1 − n·u), u = 2⁻²⁴ and n = K + 2 roundings
 * (the terms, the initial C, the store); matmul is checked against that bound element by element.
 * Integer-valued operands whose sums stay below 2²⁴ make float32 exact, which catches a missing or
 * doubled term the bound could hide for large K. The other kernels chain a few such sums with
 * vector exp/sqrt/div (each within a few ulp), so they are held to small multiples of u relative to
 * the magnitudes involved (stated at each check). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createWasmBackend, type WasmBackend } from '../../src/engine/backends/wasm.js';
import { createRng } from '../../src/util/random.js';

const U = 2 ** -24;

const CONFIGS = [
  { threads: 1, simd: 'relaxed' },
  { threads: 2, simd: 'relaxed' },
  { threads: 1, simd: 'simd' },
  { threads: 2, simd: 'simd' },
] as const;

function fill(view: Float32Array, seed: number, scale = 1): Float32Array {
  const rng = createRng(seed);
  for (let i = 0; i < view.length; i++) view[i] = rng.normal() * scale;
  return view;
}

function fillInts(view: Float32Array, seed: number, lo: number, hi: number): Float32Array {
  const rng = createRng(seed);
  for (let i = 0; i < view.length; i++) view[i] = rng.int(lo, hi);
  return view;
}

/** Largest |a − b| / bound over elements (≤ 1 passes). */
function worstRatio(a: ArrayLike<number>, b: ArrayLike<number>, bound: (i: number) => number, n = b.length): number {
  let worst = 0;
  for (let i = 0; i < n; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= bound(i))) worst = Math.max(worst, Number.isFinite(d) ? d / bound(i) : Infinity);
  }
  return worst;
}

function refMatmul(A: ArrayLike<number>, B: ArrayLike<number>, C0: ArrayLike<number>, M: number, N: number, K: number,
  transA: boolean, transB: boolean, accumulate: boolean): { c: Float64Array; mag: Float64Array } {
  const c = new Float64Array(M * N);
  const mag = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = accumulate ? C0[i * N + j]! : 0;
      let m = Math.abs(s);
      for (let k = 0; k < K; k++) {
        const p = (transA ? A[k * M + i]! : A[i * K + k]!) * (transB ? B[j * K + k]! : B[k * N + j]!);
        s += p;
        m += Math.abs(p);
      }
      c[i * N + j] = s;
      mag[i * N + j] = m;
    }
  }
  return { c, mag };
}

function gamma(n: number): number {
  return (n * U) / (1 - n * U);
}

const GELU_S = Math.sqrt(2 / Math.PI);

for (const cfg of CONFIGS) {
  describe(`wasm backend (${cfg.simd}, ${cfg.threads} thread${cfg.threads > 1 ? 's' : ''})`, () => {
    let be: WasmBackend;
    beforeAll(() => {
      be = createWasmBackend({ threads: cfg.threads, simd: cfg.simd, adaptive: false });
    });
    afterAll(() => be.close());

    it('reports its configuration', () => {
      expect(be.threads).toBe(cfg.threads);
      expect(be.simd).toBe(cfg.simd);
      expect(be.name).toBe(`wasm-${cfg.simd}`);
    });

    describe('matmul', () => {
      // Odd sizes hit every edge of the register tile (3×12 or 4×8) and K > 512 the K blocking.
      const small: [number, number, number][] = [[1, 1, 1], [7, 13, 5], [3, 12, 1], [4, 8, 2], [5, 7, 3],
        [13, 25, 300], [17, 33, 513], [5, 14, 1100], [2, 40, 9], [40, 2, 9], [121, 30, 7], [6, 24, 0]];
      for (const [M, N, K] of small) {
        for (const transA of [false, true]) {
          for (const transB of [false, true]) {
            for (const accumulate of [false, true]) {
              it(`M=${M} N=${N} K=${K} transA=${transA} transB=${transB} accumulate=${accumulate}`, () => {
                const A = fill(be.alloc(M * K), 1), B = fill(be.alloc(K * N), 2);
                const C = fill(be.alloc(M * N + 5), 3);
                const C0 = Float32Array.from(C);
                const { c, mag } = refMatmul(A, B, C0, M, N, K, transA, transB, accumulate);
                be.matmul(C, A, B, M, N, K, transA, transB, accumulate);
                expect(worstRatio(C, c, (i) => gamma(K + 2) * mag[i]! + 1e-38)).toBeLessThanOrEqual(1);
                for (let i = M * N; i < M * N + 5; i++) expect(C[i]).toBe(C0[i]); // untouched past the end
              });
            }
          }
        }
      }

      // The reference model's products (B·T = 2048 rows): forward x·W, dX = dY·Wᵀ, dW += Xᵀ·dY.
      const model: [number, number, number, boolean, boolean, boolean][] = [
        [2048, 384, 128, false, false, false], [2048, 128, 512, false, false, false],
        [2048, 512, 128, false, true, false], [128, 384, 2048, true, false, true], [512, 128, 2048, true, false, true],
        [2048, 100, 128, false, true, false]];
      for (const [M, N, K, transA, transB, accumulate] of model) {
        it(`exact on integers: ${M}×${K}·${K}×${N} transA=${transA} transB=${transB} accumulate=${accumulate}`, () => {
          const A = fillInts(be.alloc(M * K), 4, -3, 3), B = fillInts(be.alloc(K * N), 5, -3, 3);
          const C = fillInts(be.alloc(M * N), 6, -100, 100);
          const { c } = refMatmul(A, B, C, M, N, K, transA, transB, accumulate);
          be.matmul(C, A, B, M, N, K, transA, transB, accumulate);
          expect(worstRatio(C, c, () => 0.5)).toBe(0);
        });
      }

      it('within the rounding bound on a reference shape with random floats', () => {
        const M = 2048, N = 128, K = 512;
        const A = fill(be.alloc(M * K), 7), B = fill(be.alloc(K * N), 8), C = be.alloc(M * N);
        const { c, mag } = refMatmul(A, B, C, M, N, K, false, false, false);
        be.matmul(C, A, B, M, N, K, false, false, false);
        expect(worstRatio(C, c, (i) => gamma(K + 2) * mag[i]!)).toBeLessThanOrEqual(1);
      });

      it('gives a row the same bits whatever the other rows (batch invariance)', () => {
        const K = 300, N = 37;
        const A = fill(be.alloc(64 * K), 9), B = fill(be.alloc(K * N), 10);
        const full = be.alloc(64 * N);
        be.matmul(full, A, B, 64, N, K, false, false, false);
        for (const [start, rows] of [[0, 1], [5, 7], [31, 33], [63, 1]] as const) {
          const out = be.alloc(rows * N);
          be.matmul(out, A.subarray(start * K, (start + rows) * K), B, rows, N, K, false, false, false);
          expect(Array.from(out)).toEqual(Array.from(full.subarray(start * N, (start + rows) * N)));
        }
      });
    });

    describe('layerNorm', () => {
      for (const [N, C] of [[1, 1], [3, 5], [7, 13], [64, 128], [2048, 128], [9, 130]] as const) {
        it(`forward and backward N=${N} C=${C}`, () => {
          const inp = fill(be.alloc(N * C), 11, 2), w = fill(be.alloc(C), 12), b = fill(be.alloc(C), 13);
          for (let i = 0; i < N * C; i++) inp[i] = inp[i]! + (i % 3); // a non-zero mean per row
          const out = be.alloc(N * C), mean = be.alloc(N), rstd = be.alloc(N);
          be.layerNormForward(out, mean, rstd, inp, w, b, N, C);
          const refNorm = new Float64Array(N * C), refMean = new Float64Array(N), refRstd = new Float64Array(N);
          for (let i = 0; i < N; i++) {
            let m = 0;
            for (let c = 0; c < C; c++) m += inp[i * C + c]!;
            m /= C;
            let v = 0;
            for (let c = 0; c < C; c++) v += (inp[i * C + c]! - m) ** 2;
            const s = 1 / Math.sqrt(v / C + 1e-5);
            refMean[i] = m;
            refRstd[i] = s;
            for (let c = 0; c < C; c++) refNorm[i * C + c] = (inp[i * C + c]! - m) * s;
          }
          // Mean and variance are float32 sums of C terms: relative error ~C·u, the normalised value
          // inherits it (|norm| ≤ √C), hence 4·C·u on the magnitudes involved.
          const tol = 4 * (C + 4) * U;
          expect(worstRatio(mean, refMean, (i) => tol * (Math.abs(refMean[i]!) + 2 + (i % 3)))).toBeLessThanOrEqual(1);
          expect(worstRatio(rstd, refRstd, (i) => tol * refRstd[i]!)).toBeLessThanOrEqual(1);
          expect(worstRatio(out, refNorm.map((x, i) => x * w[i % C]! + b[i % C]!),
            (i) => tol * (Math.abs(refNorm[i]! * w[i % C]!) + Math.abs(b[i % C]!) + 1))).toBeLessThanOrEqual(1);

          const dout = fill(be.alloc(N * C), 14), dinp = fill(be.alloc(N * C), 15);
          const dw = fill(be.alloc(C), 16), db = fill(be.alloc(C), 17);
          const dinp0 = Float64Array.from(dinp), dw0 = Float64Array.from(dw), db0 = Float64Array.from(db);
          be.layerNormBackward(dinp, dw, db, dout, inp, w, mean, rstd, N, C);
          const rDinp = dinp0.slice(), rDw = dw0.slice(), rDb = db0.slice();
          const magDw = dw0.map(Math.abs), magDb = db0.map(Math.abs), magDinp = dinp0.map(Math.abs);
          for (let i = 0; i < N; i++) {
            let a = 0, bb = 0, ma = 0, mb = 0;
            for (let c = 0; c < C; c++) {
              const dn = w[c]! * dout[i * C + c]!;
              a += dn; bb += dn * refNorm[i * C + c]!;
              ma += Math.abs(dn); mb += Math.abs(dn * refNorm[i * C + c]!);
            }
            a /= C; bb /= C; ma /= C; mb /= C;
            for (let c = 0; c < C; c++) {
              const k = i * C + c, n = refNorm[k]!, g = dout[k]!;
              rDb[c] += g; magDb[c] += Math.abs(g);
              rDw[c] += n * g; magDw[c] += Math.abs(n * g);
              rDinp[k] += (w[c]! * g - a - n * bb) * refRstd[i]!;
              magDinp[k] += (Math.abs(w[c]! * g) + ma + Math.abs(n) * mb) * refRstd[i]!;
            }
          }
          expect(worstRatio(dinp, rDinp, (i) => tol * (magDinp[i]! + 1e-30))).toBeLessThanOrEqual(1);
          // dweight/dbias sum N rows on top of that: (N + C)·u relative to the sum of magnitudes.
          const tolW = 4 * (N + C + 4) * U;
          expect(worstRatio(dw, rDw, (i) => tolW * magDw[i]!)).toBeLessThanOrEqual(1);
          expect(worstRatio(db, rDb, (i) => tolW * magDb[i]!)).toBeLessThanOrEqual(1);
        });
      }
    });

    describe('attention', () => {
      // Odd T and head sizes (hs = 4, 5, 1, 3), the reference model's head shape, and T > 512 (K blocks).
      for (const [B, T, C, H] of [[2, 7, 12, 3], [1, 13, 10, 2], [1, 1, 8, 2], [3, 5, 3, 3], [2, 64, 128, 4], [1, 530, 6, 2]] as const) {
        it(`forward and backward B=${B} T=${T} C=${C} H=${H}`, () => {
          const hs = C / H, C3 = 3 * C, scale = 1 / Math.sqrt(hs);
          const qkv = fill(be.alloc(B * T * C3), 21), out = be.alloc(B * T * C), att = fill(be.alloc(B * H * T * T), 22);
          be.attentionForward(out, att, qkv, B, T, C, H);
          const rAtt = new Float64Array(B * H * T * T), rOut = new Float64Array(B * T * C), magOut = new Float64Array(B * T * C);
          for (let b = 0; b < B; b++) {
            for (let h = 0; h < H; h++) {
              for (let t = 0; t < T; t++) {
                const row = ((b * H + h) * T + t) * T, q = (b * T + t) * C3 + h * hs;
                let mx = -Infinity;
                for (let u = 0; u <= t; u++) {
                  let s = 0;
                  for (let i = 0; i < hs; i++) s += qkv[q + i]! * qkv[(b * T + u) * C3 + C + h * hs + i]!;
                  rAtt[row + u] = s * scale;
                  mx = Math.max(mx, s * scale);
                }
                let sum = 0;
                for (let u = 0; u <= t; u++) sum += (rAtt[row + u] = Math.exp(rAtt[row + u]! - mx));
                for (let u = 0; u <= t; u++) rAtt[row + u]! /= sum;
                for (let u = 0; u <= t; u++) {
                  for (let i = 0; i < hs; i++) {
                    const v = qkv[(b * T + u) * C3 + 2 * C + h * hs + i]!;
                    rOut[(b * T + t) * C + h * hs + i] += rAtt[row + u]! * v;
                    magOut[(b * T + t) * C + h * hs + i] += rAtt[row + u]! * Math.abs(v);
                  }
                }
              }
            }
          }
          // A score is a sum of hs products (error ≤ γ(hs)·Σ|qk| ≈ hs·u·|q||k|, here |q||k| ≲ 4hs),
          // exp turns its absolute error into a relative one, the normalisation adds T·u: the
          // probabilities are held to (hs² + T + 16)·u relative, the output to that on Σ p·|v|.
          const tol = (4 * hs * hs + T + 16) * U;
          expect(worstRatio(att, rAtt, (i) => tol * rAtt[i]! + 1e-30)).toBeLessThanOrEqual(1);
          expect(worstRatio(out, rOut, (i) => 2 * tol * magOut[i]! + 1e-30)).toBeLessThanOrEqual(1);

          const dout = fill(be.alloc(B * T * C), 23), dqkv = fill(be.alloc(B * T * C3), 24);
          const datt = fill(be.alloc(B * H * T * T), 25);
          const rD = Float64Array.from(dqkv), mag = Float64Array.from(dqkv, Math.abs);
          be.attentionBackward(dqkv, datt, dout, qkv, att, B, T, C, H);
          for (let b = 0; b < B; b++) {
            for (let h = 0; h < H; h++) {
              for (let t = 0; t < T; t++) {
                const row = ((b * H + h) * T + t) * T, o = (b * T + t) * C + h * hs, q = (b * T + t) * C3 + h * hs;
                const dp = new Float64Array(t + 1), dpMag = new Float64Array(t + 1);
                for (let u = 0; u <= t; u++) {
                  const v = (b * T + u) * C3 + 2 * C + h * hs;
                  for (let i = 0; i < hs; i++) {
                    dp[u] += dout[o + i]! * qkv[v + i]!;
                    dpMag[u] += Math.abs(dout[o + i]! * qkv[v + i]!);
                    rD[v + i] += att[row + u]! * dout[o + i]!;
                    mag[v + i] += Math.abs(att[row + u]! * dout[o + i]!);
                  }
                }
                let dot = 0, dotMag = 0;
                for (let u = 0; u <= t; u++) {
                  dot += att[row + u]! * dp[u]!;
                  dotMag += att[row + u]! * dpMag[u]!;
                }
                for (let u = 0; u <= t; u++) {
                  const ds = att[row + u]! * (dp[u]! - dot) * scale;
                  const dsMag = att[row + u]! * (dpMag[u]! + dotMag) * scale;
                  const k = (b * T + u) * C3 + C + h * hs;
                  for (let i = 0; i < hs; i++) {
                    rD[q + i] += ds * qkv[k + i]!;
                    mag[q + i] += dsMag * Math.abs(qkv[k + i]!);
                    rD[k + i] += ds * qkv[q + i]!;
                    mag[k + i] += dsMag * Math.abs(qkv[q + i]!);
                  }
                }
              }
            }
          }
          // Chains of sums of at most T + hs terms: (T + hs)·u relative to the sums of magnitudes.
          const tolB = 4 * (T + hs + 8) * U;
          expect(worstRatio(dqkv, rD, (i) => tolB * mag[i]! + 1e-30)).toBeLessThanOrEqual(1);
        });
      }

      it('threads give the same bits as one thread', () => {
        const B = 3, T = 17, C = 24, H = 4;
        const qkv = fill(be.alloc(B * T * 3 * C), 31), dout = fill(be.alloc(B * T * C), 32);
        const run = (b: WasmBackend) => {
          const q = b.alloc(qkv.length); q.set(qkv);
          const d = b.alloc(dout.length); d.set(dout);
          const out = b.alloc(B * T * C), att = b.alloc(B * H * T * T), dq = b.alloc(qkv.length), da = b.alloc(B * H * T * T);
          b.attentionForward(out, att, q, B, T, C, H);
          b.attentionBackward(dq, da, d, q, att, B, T, C, H);
          return [Array.from(out), Array.from(att), Array.from(dq)];
        };
        const single = createWasmBackend({ threads: 1, simd: cfg.simd });
        try {
          expect(run(be)).toEqual(run(single));
        } finally {
          single.close();
        }
      });
    });

    describe('attentionDecode (KV cache)', () => {
      for (const [n, ctx, C, H] of [[1, 1, 4, 1], [5, 9, 12, 3], [3, 17, 10, 2], [64, 64, 128, 4]] as const) {
        it(`n=${n} ctx=${ctx} C=${C} H=${H}`, () => {
          const slotsN = n + 2, hs = C / H, scale = 1 / Math.sqrt(hs);
          const kc = fill(be.alloc(slotsN * ctx * C), 61), vc = fill(be.alloc(slotsN * ctx * C), 62);
          const qkv = fill(be.alloc(n * 3 * C), 63), out = fill(be.alloc(n * C), 64);
          const rng = createRng(65);
          const slots = rng.shuffle(Array.from({ length: slotsN }, (_, i) => i)).slice(0, n);
          const positions = Array.from({ length: n }, (_, i) => (i === 0 ? ctx - 1 : i === 1 ? 0 : rng.int(0, ctx - 1)));
          const k0 = Float32Array.from(kc), v0 = Float32Array.from(vc);
          be.attentionDecode(out, qkv, kc, vc, slots, positions, n, ctx, C, H);
          const rk = Float64Array.from(k0), rv = Float64Array.from(v0);
          for (let i = 0; i < n; i++) {
            for (let c = 0; c < C; c++) {
              rk[(slots[i]! * ctx + positions[i]!) * C + c] = qkv[i * 3 * C + C + c]!;
              rv[(slots[i]! * ctx + positions[i]!) * C + c] = qkv[i * 3 * C + 2 * C + c]!;
            }
          }
          expect(Array.from(kc)).toEqual(Array.from(rk));
          expect(Array.from(vc)).toEqual(Array.from(rv));
          const ref = new Float64Array(n * C), mag = new Float64Array(n * C);
          for (let i = 0; i < n; i++) {
            const base = slots[i]! * ctx * C, pos = positions[i]!;
            for (let h = 0; h < H; h++) {
              const sc: number[] = [];
              for (let t = 0; t <= pos; t++) {
                let d = 0;
                for (let j = 0; j < hs; j++) d += qkv[i * 3 * C + h * hs + j]! * rk[base + t * C + h * hs + j]!;
                sc.push(d * scale);
              }
              const mx = Math.max(...sc), e = sc.map((x) => Math.exp(x - mx)), sum = e.reduce((a, b) => a + b, 0);
              for (let t = 0; t <= pos; t++) {
                for (let j = 0; j < hs; j++) {
                  const v = rv[base + t * C + h * hs + j]!;
                  ref[i * C + h * hs + j] += (e[t]! / sum) * v;
                  mag[i * C + h * hs + j] += (e[t]! / sum) * Math.abs(v);
                }
              }
            }
          }
          // As attentionForward: scores within (hs² + ctx)·u relative, the output on Σ p·|v|.
          const tol = 2 * (4 * hs * hs + ctx + 16) * U;
          expect(worstRatio(out, ref, (i) => tol * mag[i]! + 1e-30)).toBeLessThanOrEqual(1);
        });
      }

      it('rejects a slot used twice or out of range', () => {
        const kc = be.alloc(2 * 4 * 4), vc = be.alloc(2 * 4 * 4), qkv = be.alloc(2 * 12), out = be.alloc(8);
        expect(() => be.attentionDecode(out, qkv, kc, vc, [1, 1], [0, 0], 2, 4, 4, 1)).toThrow(/twice/);
        expect(() => be.attentionDecode(out, qkv, kc, vc, [0, 2], [0, 0], 2, 4, 4, 1)).toThrow(/out of range/);
        expect(() => be.attentionDecode(out, qkv, kc, vc, [0, 1], [0, 4], 2, 4, 4, 1)).toThrow(/context/);
      });
    });

    describe('gelu', () => {
      for (const n of [1, 3, 17, 4096 + 5, 2048 * 512]) {
        it(`forward and backward n=${n}`, () => {
          const inp = fill(be.alloc(n), 41, 3), out = be.alloc(n);
          if (n > 10) { inp[0] = 0; inp[1] = 40; inp[2] = -40; inp[3] = 1e-20; }
          be.geluForward(out, inp, n);
          const dout = fill(be.alloc(n), 42), dinp = fill(be.alloc(n), 43);
          const dinp0 = Float32Array.from(dinp);
          be.geluBackward(dinp, inp, dout, n);
          for (let i = 0; i < n; i++) {
            const x = inp[i]!;
            const u = GELU_S * (x + 0.044715 * x ** 3), th = Math.tanh(u);
            const y = 0.5 * x * (1 + th);
            const g = 0.5 * (1 + th) + 0.5 * x * (1 - th * th) * GELU_S * (1 + 3 * 0.044715 * x * x);
            // tanh through 1 − 2/(e^{2u} + 1) is off by a few u absolute (vector exp within 2 ulp,
            // one division), which 0.5·x carries: 16·u·(1 + |x|) bounds gelu; gelu' has |x|·sech²
            // with the same absolute error per factor, hence 16·u·(1 + x²) on |dout|, plus the add.
            if (!(Math.abs(out[i]! - y) <= 16 * U * (1 + Math.abs(x)))) expect([i, x, out[i], y]).toBe('gelu within bound');
            const want = dinp0[i]! + g * dout[i]!;
            const bound = 16 * U * (1 + x * x) * Math.abs(dout[i]!) + 2 * U * Math.abs(want);
            if (!(Math.abs(dinp[i]! - want) <= bound)) expect([i, x, dinp[i], want]).toBe('gelu\' within bound');
          }
        });
      }
    });

    describe('adamw', () => {
      for (const n of [1, 7, 1000, 100_003]) {
        it(`matches float64 AdamW over 5 steps, n=${n}`, () => {
          const p = fill(be.alloc(n), 51), g = be.alloc(n), m = be.alloc(n), v = be.alloc(n);
          const rp = Float64Array.from(p), rm = new Float64Array(n), rv = new Float64Array(n), magM = new Float64Array(n);
          const lr = 1e-3, b1 = 0.9, b2 = 0.95, eps = 1e-8, wd = 0.1;
          for (let t = 1; t <= 5; t++) {
            fill(g, 52 + t);
            be.adamw(p, g, m, v, n, lr, b1, b2, eps, wd, t);
            for (let i = 0; i < n; i++) {
              rm[i] = b1 * rm[i]! + (1 - b1) * g[i]!;
              magM[i] = b1 * magM[i]! + (1 - b1) * Math.abs(g[i]!);
              rv[i] = b2 * rv[i]! + (1 - b2) * g[i]! ** 2;
              rp[i] = rp[i]! - lr * ((rm[i]! / (1 - b1 ** t)) / (Math.sqrt(rv[i]! / (1 - b2 ** t)) + eps) + wd * rp[i]!);
            }
          }
          // m and v: a few roundings per step on the magnitudes of the terms (m can cancel). The
          // update m̂/√v̂ is O(1) with error of tens of u; each step adds that times lr to p, which is
          // stored in float32 (u relative) every step.
          expect(worstRatio(m, rm, (i) => 16 * U * magM[i]!)).toBeLessThanOrEqual(1);
          expect(worstRatio(v, rv, (i) => 16 * U * rv[i]!)).toBeLessThanOrEqual(1);
          expect(worstRatio(p, rp, (i) => 8 * U * Math.abs(rp[i]!) + 5 * 64 * U * lr)).toBeLessThanOrEqual(1);
        });
      }
    });
  });
}

describe('wasm backend memory', () => {
  it('hands out aligned, zeroed, non-aliasing views, also across memory growth', () => {
    const be = createWasmBackend({ threads: 2, adaptive: false });
    try {
      const views: Float32Array[] = [];
      const sizes = [1, 3, 16, 1000, 5_000_000, 7, 20_000_000, 2];
      for (const [k, n] of sizes.entries()) {
        const v = be.alloc(n);
        expect(v.length).toBe(n);
        expect(v.byteOffset % 64).toBe(0);
        expect(v.every((x) => x === 0)).toBe(true);
        v.fill(k + 1);
        views.push(v);
      }
      for (const [k, v] of views.entries()) expect(v.every((x) => x === k + 1)).toBe(true);
      // Views made before the memory grew still work as kernel arguments, and both threads reach
      // the grown part.
      const a = views[3]!, c = be.alloc(1);
      be.matmul(c, a.subarray(0, 4), a.subarray(4, 8), 1, 1, 4, false, false, false);
      expect(c[0]).toBe(4 * 4 * 4);
      const M = 256, N = 64, K = 64;
      const A = fillInts(be.alloc(M * K), 1, -2, 2), B = fillInts(be.alloc(K * N), 2, -2, 2), C = be.alloc(M * N);
      be.matmul(C, A, B, M, N, K, false, false, false);
      expect(worstRatio(C, refMatmul(A, B, C, M, N, K, false, false, false).c, () => 0.5)).toBe(0);
    } finally {
      be.close();
    }
  });

  it('keeps working on the calling thread after close()', () => {
    const be = createWasmBackend({ threads: 2 });
    be.close();
    const M = 256, N = 64, K = 64;
    const A = fillInts(be.alloc(M * K), 3, -2, 2), B = fillInts(be.alloc(K * N), 4, -2, 2), C = be.alloc(M * N);
    be.matmul(C, A, B, M, N, K, false, false, false);
    expect(worstRatio(C, refMatmul(A, B, C, M, N, K, false, false, false).c, () => 0.5)).toBe(0);
  });

  it('rejects arrays that are not its own', () => {
    const be = createWasmBackend({ threads: 1 });
    const other = createWasmBackend({ threads: 1 });
    try {
      const x = be.alloc(4);
      expect(() => be.geluForward(x, new Float32Array(4), 4)).toThrow(/alloc/);
      expect(() => be.geluForward(x, other.alloc(4), 4)).toThrow(/alloc/);
      expect(() => be.geluForward(x, x, 5)).toThrow(RangeError);
    } finally {
      be.close();
      other.close();
    }
  });

  it('reset frees everything for reuse', () => {
    const be = createWasmBackend({ threads: 1 });
    try {
      const a = be.alloc(100);
      a.fill(3);
      be.reset();
      const b = be.alloc(100);
      expect(b.byteOffset).toBe(a.byteOffset);
      expect(b.every((x) => x === 0)).toBe(true);
    } finally {
      be.close();
    }
  });
});

describe('wasm backend from the compiled build', () => {
  const dist = fileURLToPath(new URL('../../dist/engine/backends/wasm.js', import.meta.url));
  it.skipIf(!existsSync(dist))('loads its module and workers from dist/', async () => {
    const mod = (await import(pathToFileURL(dist).href)) as typeof import('../../src/engine/backends/wasm.js');
    const be = mod.createWasmBackend({ threads: 2, adaptive: false });
    try {
      const M = 64, N = 48, K = 32;
      const A = fillInts(be.alloc(M * K), 1, -2, 2), B = fillInts(be.alloc(K * N), 2, -2, 2), C = be.alloc(M * N);
      be.matmul(C, A, B, M, N, K, false, false, false);
      const { c } = refMatmul(A, B, C, M, N, K, false, false, false);
      expect(worstRatio(C, c, () => 0.5)).toBe(0);
    } finally {
      be.close();
    }
  });
});
