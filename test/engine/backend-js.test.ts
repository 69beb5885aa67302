/** Every kernel of the JS backend against naive float64 loops written from the contract. */
import { describe, expect, it } from 'vitest';
import { JsBackend } from '../../src/engine/backends/js.js';
import { createRng } from '../../src/util/random.js';

const be = new JsBackend();

function randomArray(n: number, seed: number, scale = 1): Float32Array {
  const rng = createRng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * scale;
  return a;
}

/** max |a − b| / (max |b| + tiny): float32 storage keeps this near 1e-7 for correct kernels. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let diff = 0;
  let mag = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    mag = Math.max(mag, Math.abs(b[i]!));
  }
  return diff / (mag + 1e-30);
}

describe('JS backend: matmul', () => {
  // Sizes cover the 4×4 blocks, every remainder (M, N mod 4 ≠ 0) and several K tiles (K > 256).
  const sizes: [number, number, number][] = [[1, 1, 1], [4, 4, 4], [5, 7, 3], [13, 6, 9], [8, 12, 300], [3, 9, 600], [17, 33, 257]];
  for (const [M, N, K] of sizes) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        for (const accumulate of [false, true]) {
          it(`M=${M} N=${N} K=${K} transA=${transA} transB=${transB} accumulate=${accumulate}`, () => {
            const A = randomArray(M * K, 1);
            const B = randomArray(K * N, 2);
            const C = randomArray(M * N + 5, 3); // trailing entries must stay untouched
            const expected = Float64Array.from(C);
            for (let i = 0; i < M; i++) {
              for (let j = 0; j < N; j++) {
                let s = 0;
                for (let k = 0; k < K; k++) {
                  const a = transA ? A[k * M + i]! : A[i * K + k]!;
                  const b = transB ? B[j * K + k]! : B[k * N + j]!;
                  s += a * b;
                }
                expected[i * N + j] = (accumulate ? C[i * N + j]! : 0) + s;
              }
            }
            be.matmul(C, A, B, M, N, K, transA, transB, accumulate);
            expect(relErr(C, expected)).toBeLessThan(1e-6);
            for (let i = M * N; i < M * N + 5; i++) expect(C[i]).toBe(Math.fround(expected[i]!));
          });
        }
      }
    }
  }

  it('gives a row the same bits whatever the other rows (batch invariance)', () => {
    const K = 300, N = 11;
    const A = randomArray(9 * K, 4);
    const B = randomArray(K * N, 5);
    const full = new Float32Array(9 * N);
    be.matmul(full, A, B, 9, N, K, false, false, false);
    for (let r = 0; r < 9; r++) {
      const one = new Float32Array(N);
      be.matmul(one, A.subarray(r * K, (r + 1) * K), B, 1, N, K, false, false, false);
      expect(Array.from(one)).toEqual(Array.from(full.subarray(r * N, (r + 1) * N)));
    }
  });
});

describe('JS backend: layer norm', () => {
  const N = 7, C = 10;
  const inp = randomArray(N * C, 10, 2);
  const weight = randomArray(C, 11);
  const bias = randomArray(C, 12);

  function reference(x: ArrayLike<number>): { out: Float64Array; mean: Float64Array; rstd: Float64Array } {
    const out = new Float64Array(N * C), mean = new Float64Array(N), rstd = new Float64Array(N);
    for (let i = 0; i < N; i++) {
      let m = 0;
      for (let c = 0; c < C; c++) m += x[i * C + c]!;
      m /= C;
      let v = 0;
      for (let c = 0; c < C; c++) v += (x[i * C + c]! - m) ** 2;
      v /= C;
      const s = 1 / Math.sqrt(v + 1e-5);
      for (let c = 0; c < C; c++) out[i * C + c] = (x[i * C + c]! - m) * s * weight[c]! + bias[c]!;
      mean[i] = m;
      rstd[i] = s;
    }
    return { out, mean, rstd };
  }

  it('forward matches the definition (eps 1e-5)', () => {
    const out = new Float32Array(N * C), mean = new Float32Array(N), rstd = new Float32Array(N);
    be.layerNormForward(out, mean, rstd, inp, weight, bias, N, C);
    const ref = reference(inp);
    expect(relErr(out, ref.out)).toBeLessThan(1e-6);
    expect(relErr(mean, ref.mean)).toBeLessThan(1e-6);
    expect(relErr(rstd, ref.rstd)).toBeLessThan(1e-6);
  });

  it('backward accumulates the gradients of Σ dout·out (checked by float64 finite differences)', () => {
    const out = new Float32Array(N * C), mean = new Float32Array(N), rstd = new Float32Array(N);
    be.layerNormForward(out, mean, rstd, inp, weight, bias, N, C);
    const dout = randomArray(N * C, 13);
    const dinp = randomArray(N * C, 14), dw = randomArray(C, 15), db = randomArray(C, 16);
    const dinp0 = Float64Array.from(dinp), dw0 = Float64Array.from(dw), db0 = Float64Array.from(db);
    be.layerNormBackward(dinp, dw, db, dout, inp, weight, mean, rstd, N, C);
    // Objective L(x, w, b) = Σ dout·LN(x); central differences in float64.
    const L = (x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number>): number => {
      let s = 0;
      for (let i = 0; i < N; i++) {
        let m = 0;
        for (let c = 0; c < C; c++) m += x[i * C + c]!;
        m /= C;
        let v = 0;
        for (let c = 0; c < C; c++) v += (x[i * C + c]! - m) ** 2;
        const r = 1 / Math.sqrt(v / C + 1e-5);
        for (let c = 0; c < C; c++) s += dout[i * C + c]! * ((x[i * C + c]! - m) * r * w[c]! + b[c]!);
      }
      return s;
    };
    const fd = (arr: Float64Array, which: 0 | 1 | 2): Float64Array => {
      const g = new Float64Array(arr.length);
      const x = Float64Array.from(inp), w = Float64Array.from(weight), b = Float64Array.from(bias);
      const target = [x, w, b][which]!;
      for (let i = 0; i < arr.length; i++) {
        const keep = target[i]!;
        target[i] = keep + 1e-6;
        const up = L(x, w, b);
        target[i] = keep - 1e-6;
        const down = L(x, w, b);
        target[i] = keep;
        g[i] = arr[i]! + (up - down) / 2e-6;
      }
      return g;
    };
    expect(relErr(dinp, fd(dinp0, 0))).toBeLessThan(1e-5);
    expect(relErr(dw, fd(dw0, 1))).toBeLessThan(1e-5);
    expect(relErr(db, fd(db0, 2))).toBeLessThan(1e-5);
  });
});

describe('JS backend: attention', () => {
  const B = 2, T = 5, C = 6, H = 2, hs = C / H;
  const qkv = randomArray(B * T * 3 * C, 20);

  /** Naive causal attention in float64: out and probabilities. */
  function reference(x: ArrayLike<number>): { out: Float64Array; att: Float64Array } {
    const out = new Float64Array(B * T * C), att = new Float64Array(B * H * T * T);
    for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let t = 0; t < T; t++) {
      const sc: number[] = [];
      for (let u = 0; u <= t; u++) {
        let s = 0;
        for (let i = 0; i < hs; i++) s += x[(b * T + t) * 3 * C + h * hs + i]! * x[(b * T + u) * 3 * C + C + h * hs + i]!;
        sc.push(s / Math.sqrt(hs));
      }
      const mx = Math.max(...sc);
      const e = sc.map((s) => Math.exp(s - mx));
      const z = e.reduce((a, c) => a + c, 0);
      for (let u = 0; u <= t; u++) {
        const p = e[u]! / z;
        att[((b * H + h) * T + t) * T + u] = p;
        for (let i = 0; i < hs; i++) out[(b * T + t) * C + h * hs + i] += p * x[(b * T + u) * 3 * C + 2 * C + h * hs + i]!;
      }
    }
    return { out, att };
  }

  it('forward matches naive causal attention; entries above the diagonal are 0', () => {
    const out = new Float32Array(B * T * C);
    const att = new Float32Array(B * H * T * T).fill(7);
    be.attentionForward(out, att, qkv, B, T, C, H);
    const ref = reference(qkv);
    expect(relErr(out, ref.out)).toBeLessThan(1e-6);
    expect(relErr(att, ref.att)).toBeLessThan(1e-6);
  });

  it('backward accumulates d(Σ dout·out)/dqkv (float64 finite differences)', () => {
    const out = new Float32Array(B * T * C), att = new Float32Array(B * H * T * T);
    be.attentionForward(out, att, qkv, B, T, C, H);
    const dout = randomArray(B * T * C, 21);
    const dqkv = randomArray(B * T * 3 * C, 22);
    const expected = Float64Array.from(dqkv);
    be.attentionBackward(dqkv, new Float32Array(B * H * T * T), dout, qkv, att, B, T, C, H);
    const x = Float64Array.from(qkv);
    const L = (): number => reference(x).out.reduce((s, v, i) => s + v * dout[i]!, 0);
    for (let i = 0; i < x.length; i++) {
      const keep = x[i]!;
      x[i] = keep + 1e-6;
      const up = L();
      x[i] = keep - 1e-6;
      const down = L();
      x[i] = keep;
      expected[i] += (up - down) / 2e-6;
    }
    expect(relErr(dqkv, expected)).toBeLessThan(1e-5);
  });
});

describe('JS backend: GELU', () => {
  const n = 56;
  // Random values plus extremes where exp over/underflows (the result must stay finite).
  const inp = Float32Array.from([...randomArray(50, 30, 3), 40, -40, 1e4, -1e4, 0, -0.5]);
  const gelu = (x: number): number => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));

  it('forward is the tanh approximation', () => {
    const out = new Float32Array(n);
    be.geluForward(out, inp, n);
    expect(relErr(out, Array.from(inp, gelu))).toBeLessThan(1e-6);
  });

  it('backward accumulates gelu\'(x)·dout', () => {
    const dout = randomArray(n, 31);
    const dinp = randomArray(n, 32);
    const expected = Array.from(dinp, (d, i) => d + dout[i]! * (gelu(inp[i]! + 1e-6) - gelu(inp[i]! - 1e-6)) / 2e-6);
    be.geluBackward(dinp, inp, dout, n);
    expect(relErr(dinp, expected)).toBeLessThan(1e-6);
    expect(dinp.every(Number.isFinite)).toBe(true);
  });
});

describe('JS backend: AdamW', () => {
  it('matches the bias-corrected decoupled update over several steps', () => {
    const n = 20;
    const p = randomArray(n, 40), m = new Float32Array(n), v = new Float32Array(n);
    const P = Float64Array.from(p), Mm = new Float64Array(n), Vv = new Float64Array(n);
    const [lr, b1, b2, eps, wd] = [0.01, 0.9, 0.95, 1e-8, 0.1];
    for (let t = 1; t <= 5; t++) {
      const g = randomArray(n, 40 + t);
      be.adamw(p, g, m, v, n, lr, b1, b2, eps, wd, t);
      for (let i = 0; i < n; i++) {
        Mm[i] = b1 * Mm[i]! + (1 - b1) * g[i]!;
        Vv[i] = b2 * Vv[i]! + (1 - b2) * g[i]! ** 2;
        const mh = Mm[i]! / (1 - b1 ** t), vh = Vv[i]! / (1 - b2 ** t);
        P[i] = P[i]! - lr * (mh / (Math.sqrt(vh) + eps) + wd * P[i]!);
      }
    }
    expect(relErr(p, P)).toBeLessThan(1e-6);
    expect(relErr(m, Mm)).toBeLessThan(1e-6);
    expect(relErr(v, Vv)).toBeLessThan(1e-6);
  });

  it('only touches the first n entries', () => {
    const p = new Float32Array([1, 2, 3]), g = new Float32Array([1, 1, 1]);
    be.adamw(p, g, new Float32Array(3), new Float32Array(3), 2, 0.1, 0.9, 0.999, 1e-8, 0, 1);
    expect(p[2]).toBe(3);
    expect(p[0]).toBeCloseTo(0.9, 6);
  });
});
