/** The plain-JS reference backend: every kernel of `Backend` as straightforward loops, single
 * threaded. It is the fallback when wasm is unavailable and the reference the fast backends are
 * tested against, so clarity wins over speed everywhere except the matmul inner loop, which does
 * almost all of the work. Sums are accumulated in float64 (JS numbers) and stored as float32. */
import type { Backend } from '../backend.js';

/** LayerNorm epsilon, as GPT-2 / llm.c. */
export const LN_EPS = 1e-5;
const GELU_SCALE = Math.sqrt(2 / Math.PI);
/** K-dimension tile of the matmul: 4 rows of A and a tile of every row of B stay in cache. */
const KC = 256;

export class JsBackend implements Backend {
  readonly name = 'js';
  readonly threads = 1;
  // Transposition scratch for matmul operands, grown on demand and reused across calls.
  private packA = new Float32Array(0);
  private packB = new Float32Array(0);

  alloc(n: number): Float32Array {
    return new Float32Array(n);
  }

  matmul(C: Float32Array, A: Float32Array, B: Float32Array, M: number, N: number, K: number,
    transA: boolean, transB: boolean, accumulate: boolean): void {
    // Bring both operands to "rows along K" (A as M×K, B as N×K) so every output element is a dot
    // product of two contiguous rows; transposing costs O(MK + NK) against O(MNK) for the product.
    let a = A;
    if (transA) {
      if (this.packA.length < M * K) this.packA = new Float32Array(M * K);
      a = this.packA;
      transpose(a, A, K, M);
    }
    let b = B;
    if (!transB) {
      if (this.packB.length < N * K) this.packB = new Float32Array(N * K);
      b = this.packB;
      transpose(b, B, K, N);
    }
    if (!accumulate) C.fill(0, 0, M * N);
    for (let k0 = 0; k0 < K; k0 += KC) {
      const k1 = Math.min(K, k0 + KC);
      dotRowsTile(C, a, b, M, N, K, k0, k1);
    }
  }

  layerNormForward(out: Float32Array, mean: Float32Array, rstd: Float32Array, inp: Float32Array,
    weight: Float32Array, bias: Float32Array, N: number, C: number): void {
    for (let i = 0; i < N; i++) {
      const x = i * C;
      let m = 0;
      for (let c = 0; c < C; c++) m += inp[x + c]!;
      m /= C;
      let v = 0;
      for (let c = 0; c < C; c++) {
        const d = inp[x + c]! - m;
        v += d * d;
      }
      v /= C;
      const s = 1 / Math.sqrt(v + LN_EPS);
      for (let c = 0; c < C; c++) out[x + c] = (inp[x + c]! - m) * s * weight[c]! + bias[c]!;
      mean[i] = m;
      rstd[i] = s;
    }
  }

  layerNormBackward(dinp: Float32Array, dweight: Float32Array, dbias: Float32Array, dout: Float32Array,
    inp: Float32Array, weight: Float32Array, mean: Float32Array, rstd: Float32Array, N: number, C: number): void {
    for (let i = 0; i < N; i++) {
      const x = i * C;
      const m = mean[i]!;
      const s = rstd[i]!;
      // Two reductions of the gradient through the normalisation (mean and variance terms).
      let dnormMean = 0;
      let dnormNormMean = 0;
      for (let c = 0; c < C; c++) {
        const norm = (inp[x + c]! - m) * s;
        const dnorm = weight[c]! * dout[x + c]!;
        dnormMean += dnorm;
        dnormNormMean += dnorm * norm;
      }
      dnormMean /= C;
      dnormNormMean /= C;
      for (let c = 0; c < C; c++) {
        const norm = (inp[x + c]! - m) * s;
        const g = dout[x + c]!;
        dbias[c] += g;
        dweight[c] += norm * g;
        dinp[x + c] += (weight[c]! * g - dnormMean - norm * dnormNormMean) * s;
      }
    }
  }

  attentionForward(out: Float32Array, att: Float32Array, qkv: Float32Array, B: number, T: number, C: number, H: number): void {
    const hs = C / H;
    const C3 = 3 * C;
    const scale = 1 / Math.sqrt(hs);
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        for (let t = 0; t < T; t++) {
          const q = (b * T + t) * C3 + h * hs;
          const row = ((b * H + h) * T + t) * T;
          // Scores against keys 0..t, then a numerically stable softmax.
          let max = -Infinity;
          for (let t2 = 0; t2 <= t; t2++) {
            const k = (b * T + t2) * C3 + C + h * hs;
            let s = 0;
            for (let i = 0; i < hs; i++) s += qkv[q + i]! * qkv[k + i]!;
            s *= scale;
            att[row + t2] = s;
            if (s > max) max = s;
          }
          let sum = 0;
          for (let t2 = 0; t2 <= t; t2++) {
            const e = Math.exp(att[row + t2]! - max);
            att[row + t2] = e;
            sum += e;
          }
          const inv = 1 / sum;
          for (let t2 = 0; t2 <= t; t2++) att[row + t2] = att[row + t2]! * inv;
          for (let t2 = t + 1; t2 < T; t2++) att[row + t2] = 0;
          // Weighted sum of the values.
          const o = (b * T + t) * C + h * hs;
          for (let i = 0; i < hs; i++) out[o + i] = 0;
          for (let t2 = 0; t2 <= t; t2++) {
            const v = (b * T + t2) * C3 + 2 * C + h * hs;
            const w = att[row + t2]!;
            for (let i = 0; i < hs; i++) out[o + i] += w * qkv[v + i]!;
          }
        }
      }
    }
  }

  attentionBackward(dqkv: Float32Array, datt: Float32Array, dout: Float32Array, qkv: Float32Array,
    att: Float32Array, B: number, T: number, C: number, H: number): void {
    const hs = C / H;
    const C3 = 3 * C;
    const scale = 1 / Math.sqrt(hs);
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        for (let t = 0; t < T; t++) {
          const row = ((b * H + h) * T + t) * T;
          const o = (b * T + t) * C + h * hs;
          // Through the weighted sum: datt = dout·v, dv += att·dout.
          for (let t2 = 0; t2 <= t; t2++) {
            const v = (b * T + t2) * C3 + 2 * C + h * hs;
            const w = att[row + t2]!;
            let s = 0;
            for (let i = 0; i < hs; i++) {
              s += dout[o + i]! * qkv[v + i]!;
              dqkv[v + i] += w * dout[o + i]!;
            }
            datt[row + t2] = s;
          }
          // Through the softmax: dscore = att · (datt − Σ att·datt), in place in datt.
          let dot = 0;
          for (let t2 = 0; t2 <= t; t2++) dot += att[row + t2]! * datt[row + t2]!;
          for (let t2 = 0; t2 <= t; t2++) datt[row + t2] = att[row + t2]! * (datt[row + t2]! - dot);
          // Through the scaled scores q·k.
          const q = (b * T + t) * C3 + h * hs;
          for (let t2 = 0; t2 <= t; t2++) {
            const k = (b * T + t2) * C3 + C + h * hs;
            const d = datt[row + t2]! * scale;
            for (let i = 0; i < hs; i++) {
              dqkv[q + i] += d * qkv[k + i]!;
              dqkv[k + i] += d * qkv[q + i]!;
            }
          }
        }
      }
    }
  }

  // 0.5·x·(1 + tanh u) is written as x·σ(2u) = x − x/(1 + e^{2u}): same function, one exp
  // instead of a (slower) tanh. u = sqrt(2/π)·(x + 0.044715·x³).
  geluForward(out: Float32Array, inp: Float32Array, n: number): void {
    for (let i = 0; i < n; i++) {
      const x = inp[i]!;
      const u = GELU_SCALE * (x + 0.044715 * x * x * x);
      out[i] = x - x / (1 + Math.exp(2 * u));
    }
  }

  geluBackward(dinp: Float32Array, inp: Float32Array, dout: Float32Array, n: number): void {
    for (let i = 0; i < n; i++) {
      const x = inp[i]!;
      const u = GELU_SCALE * (x + 0.044715 * x * x * x);
      const s = 1 / (1 + Math.exp(-2 * u)); // σ(2u) = (1 + tanh u) / 2
      // d/dx [x·σ(2u)] = σ(2u) + x · 2σ(2u)(1 − σ(2u)) · du/dx
      const grad = s + 2 * x * s * (1 - s) * GELU_SCALE * (1 + 3 * 0.044715 * x * x);
      dinp[i] += grad * dout[i]!;
    }
  }

  adamw(params: Float32Array, grads: Float32Array, m: Float32Array, v: Float32Array, n: number,
    lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, t: number): void {
    const c1 = 1 - Math.pow(beta1, t);
    const c2 = 1 - Math.pow(beta2, t);
    for (let i = 0; i < n; i++) {
      const g = grads[i]!;
      const mi = beta1 * m[i]! + (1 - beta1) * g;
      const vi = beta2 * v[i]! + (1 - beta2) * g * g;
      m[i] = mi;
      v[i] = vi;
      const p = params[i]!;
      params[i] = p - lr * ((mi / c1) / (Math.sqrt(vi / c2) + eps) + weightDecay * p);
    }
  }
}

/** dst (cols×rows) = srcᵀ, src stored rows×cols. */
function transpose(dst: Float32Array, src: Float32Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const s = r * cols;
    for (let c = 0; c < cols; c++) dst[c * rows + r] = src[s + c]!;
  }
}

/** C[i,j] += Σ_{k0≤k<k1} a[i,k]·b[j,k], a M×K and b N×K row-major. 4×4 register blocks: eight
 * loads feed sixteen multiply-adds. Every output element is summed in the same k order whichever
 * path computes it, so a row's result does not depend on M (batch composition). */
function dotRowsTile(C: Float32Array, a: Float32Array, b: Float32Array, M: number, N: number, K: number,
  k0: number, k1: number): void {
  const M4 = M - (M % 4);
  const N4 = N - (N % 4);
  for (let i = 0; i < M4; i += 4) {
    const a0 = i * K, a1 = a0 + K, a2 = a1 + K, a3 = a2 + K;
    const c0 = i * N, c1 = c0 + N, c2 = c1 + N, c3 = c2 + N;
    for (let j = 0; j < N4; j += 4) {
      const b0 = j * K, b1 = b0 + K, b2 = b1 + K, b3 = b2 + K;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0;
      let s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0;
      let s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      for (let k = k0; k < k1; k++) {
        const x0 = a[a0 + k]!, x1 = a[a1 + k]!, x2 = a[a2 + k]!, x3 = a[a3 + k]!;
        const y0 = b[b0 + k]!, y1 = b[b1 + k]!, y2 = b[b2 + k]!, y3 = b[b3 + k]!;
        s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3;
        s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
        s20 += x2 * y0; s21 += x2 * y1; s22 += x2 * y2; s23 += x2 * y3;
        s30 += x3 * y0; s31 += x3 * y1; s32 += x3 * y2; s33 += x3 * y3;
      }
      C[c0 + j] += s00; C[c0 + j + 1] += s01; C[c0 + j + 2] += s02; C[c0 + j + 3] += s03;
      C[c1 + j] += s10; C[c1 + j + 1] += s11; C[c1 + j + 2] += s12; C[c1 + j + 3] += s13;
      C[c2 + j] += s20; C[c2 + j + 1] += s21; C[c2 + j + 2] += s22; C[c2 + j + 3] += s23;
      C[c3 + j] += s30; C[c3 + j + 1] += s31; C[c3 + j + 2] += s32; C[c3 + j + 3] += s33;
    }
    for (let j = N4; j < N; j++) {
      const b0 = j * K;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let k = k0; k < k1; k++) {
        const y = b[b0 + k]!;
        s0 += a[a0 + k]! * y; s1 += a[a1 + k]! * y; s2 += a[a2 + k]! * y; s3 += a[a3 + k]! * y;
      }
      C[c0 + j] += s0; C[c1 + j] += s1; C[c2 + j] += s2; C[c3 + j] += s3;
    }
  }
  for (let i = M4; i < M; i++) {
    const a0 = i * K;
    const c0 = i * N;
    for (let j = 0; j < N; j++) {
      const b0 = j * K;
      let s = 0;
      for (let k = k0; k < k1; k++) s += a[a0 + k]! * b[b0 + k]!;
      C[c0 + j] += s;
    }
  }
}

/** The shared reference backend instance. */
export const jsBackend: Backend = new JsBackend();

export function createJsBackend(): Backend {
  return new JsBackend();
}
