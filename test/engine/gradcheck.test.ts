/** The model's loss and the gradient of EVERY parameter tensor against an independent float64
 * implementation of the same network (written here from the GPT-2 definition) and float64 central
 * finite differences of it.
 *
 * Thresholds: the float64 differences are accurate to ~1e-9 relative (h = 1e-5, error O(h²) plus
 * rounding ~1e-16/h). The model computes in float32 (unit roundoff 6e-8), so over a few dozen
 * chained operations its loss agrees to ~1e-6 relative and its gradients to a few 1e-6 of each
 * tensor's largest gradient (observed: at most 4e-6). We allow 2e-5 for the loss and 5e-5 for the
 * gradients; a wrong term (missed accumulation, transposed weight, wrong scale, missed residual)
 * produces errors of order 1e-2…1. */
import { describe, expect, it } from 'vitest';
import { type ModelConfig, makeConfig } from '../../src/engine/config.js';
import { type Batch, type Gpt, backward, createGpt, forward, zeroGrads } from '../../src/engine/model.js';
import { createRng } from '../../src/util/random.js';

type P64 = Map<string, Float64Array>;

/** Mask-weighted mean cross-entropy of a GPT-2 model in float64, from the definitions. */
function referenceLoss(c: ModelConfig, P: P64, batch: Batch): number {
  const { B, T } = batch;
  const C = c.dModel, H = c.nHead, hs = C / H, F = c.dMlp, V = c.vocabSize;
  const get = (name: string): Float64Array => {
    const t = P.get(name);
    if (!t) throw new Error(`missing ${name}`);
    return t;
  };
  const layerNorm = (x: number[], w: Float64Array, b: Float64Array): number[] => {
    const m = x.reduce((s, v) => s + v, 0) / x.length;
    const v = x.reduce((s, u) => s + (u - m) ** 2, 0) / x.length;
    return x.map((u, i) => ((u - m) / Math.sqrt(v + 1e-5)) * w[i]! + b[i]!);
  };
  /** y = x·W + b with W stored in×out. */
  const linear = (x: number[], W: Float64Array, b: Float64Array, out: number): number[] => {
    const y = Array.from(b.subarray(0, out));
    for (let i = 0; i < x.length; i++) for (let j = 0; j < out; j++) y[j] += x[i]! * W[i * out + j]!;
    return y;
  };
  const gelu = (x: number): number => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
  let lossSum = 0;
  let maskSum = 0;
  for (let b = 0; b < B; b++) {
    // Residual stream of every position of this sequence.
    let xs: number[][] = [];
    for (let t = 0; t < T; t++) {
      const tok = batch.tokens[b * T + t]!;
      xs.push(Array.from({ length: C }, (_, k) => get('wte.weight')[tok * C + k]! + get('wpe.weight')[t * C + k]!));
    }
    for (let l = 0; l < c.nLayer; l++) {
      const p = (n: string): Float64Array => get(`h.${l}.${n}`);
      const qkv = xs.map((x) => linear(layerNorm(x, p('ln_1.weight'), p('ln_1.bias')), p('attn.c_attn.weight'), p('attn.c_attn.bias'), 3 * C));
      const y = xs.map(() => new Array<number>(C).fill(0));
      for (let h = 0; h < H; h++) {
        for (let t = 0; t < T; t++) {
          const scores: number[] = [];
          for (let u = 0; u <= t; u++) {
            let s = 0;
            for (let i = 0; i < hs; i++) s += qkv[t]![h * hs + i]! * qkv[u]![C + h * hs + i]!;
            scores.push(s / Math.sqrt(hs));
          }
          const mx = Math.max(...scores);
          const e = scores.map((s) => Math.exp(s - mx));
          const z = e.reduce((a, v) => a + v, 0);
          for (let u = 0; u <= t; u++) for (let i = 0; i < hs; i++) y[t]![h * hs + i] += (e[u]! / z) * qkv[u]![2 * C + h * hs + i]!;
        }
      }
      xs = xs.map((x, t) => {
        const a = linear(y[t]!, p('attn.c_proj.weight'), p('attn.c_proj.bias'), C);
        const r2 = x.map((v, i) => v + a[i]!);
        const hdn = linear(layerNorm(r2, p('ln_2.weight'), p('ln_2.bias')), p('mlp.c_fc.weight'), p('mlp.c_fc.bias'), F).map(gelu);
        const m = linear(hdn, p('mlp.c_proj.weight'), p('mlp.c_proj.bias'), C);
        return r2.map((v, i) => v + m[i]!);
      });
    }
    const head = c.tiedEmbeddings ? get('wte.weight') : get('lm_head.weight');
    for (let t = 0; t < T; t++) {
      const m = batch.mask[b * T + t]!;
      if (m === 0) continue;
      const f = layerNorm(xs[t]!, get('ln_f.weight'), get('ln_f.bias'));
      const logits = Array.from({ length: V }, (_, v) => f.reduce((s, x, k) => s + x * head[v * C + k]!, 0));
      const mx = Math.max(...logits);
      const lse = mx + Math.log(logits.reduce((s, z) => s + Math.exp(z - mx), 0));
      lossSum += m * (lse - logits[batch.targets[b * T + t]!]!);
      maskSum += m;
    }
  }
  return lossSum / maskSum;
}

/** Parameters far from the GPT-2 init so every path (LN gains, biases, attention mixing) matters. */
function randomize(model: Gpt, seed: number): void {
  const rng = createRng(seed);
  for (const t of model.tensors) {
    const view = model.params.subarray(t.offset, t.offset + t.size);
    const isGain = /ln_.\.weight$|ln_f\.weight$/.test(t.name);
    for (let i = 0; i < view.length; i++) view[i] = isGain ? 1 + 0.3 * rng.normal() : (t.decay ? 0.5 : 0.3) * rng.normal();
  }
}

function tinyBatch(V: number): Batch {
  const B = 3, T = 5;
  const rng = createRng(99);
  const tokens = Int32Array.from({ length: B * T }, () => rng.int(0, V - 1));
  const targets = Int32Array.from({ length: B * T }, () => rng.int(0, V - 1));
  // Prompt positions, padding and a fractional weight: everything the trainer can produce and more.
  const mask = Float32Array.from([0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0.5, 1, 1]);
  return { tokens, targets, mask, B, T };
}

function toP64(model: Gpt): P64 {
  return new Map(model.tensors.map((t) => [t.name, Float64Array.from(model.params.subarray(t.offset, t.offset + t.size))]));
}

for (const tied of [true, false]) {
  describe(`gradient check (${tied ? 'tied' : 'separate'} output head)`, () => {
    const config = makeConfig({ vocabSize: 11, contextLength: 7, dModel: 8, nLayer: 2, nHead: 2, dMlp: 12, tiedEmbeddings: tied });
    const model = createGpt(config, { seed: 1 });
    randomize(model, 2);
    const batch = tinyBatch(config.vocabSize);
    const P = toP64(model);

    zeroGrads(model);
    const loss = forward(model, batch);
    backward(model);
    const grads = model.grads!;

    it('has the GPT-2 tensor set', () => {
      const names = model.tensors.map((t) => t.name);
      expect(names).toContain('h.1.attn.c_attn.weight');
      expect(names.includes('lm_head.weight')).toBe(!tied);
      expect(model.tensors.find((t) => t.name === 'h.0.mlp.c_fc.weight')!.shape).toEqual([8, 12]);
    });

    it('loss matches the float64 reference', () => {
      const ref = referenceLoss(config, P, batch);
      expect(Math.abs(loss - ref) / ref).toBeLessThan(2e-5);
    });

    for (const t of model.tensors) {
      it(`gradient of ${t.name}`, () => {
        const h = 1e-5;
        const p = P.get(t.name)!;
        let maxErr = 0;
        let maxFd = 0;
        for (let i = 0; i < t.size; i++) {
          const keep = p[i]!;
          p[i] = keep + h;
          const up = referenceLoss(config, P, batch);
          p[i] = keep - h;
          const down = referenceLoss(config, P, batch);
          p[i] = keep;
          const fd = (up - down) / (2 * h);
          maxFd = Math.max(maxFd, Math.abs(fd));
          maxErr = Math.max(maxErr, Math.abs(grads[t.offset + i]! - fd));
        }
        if (process.env.GRADCHECK_LOG) console.log(t.name, maxFd.toExponential(2), (maxErr / maxFd).toExponential(2));
        expect(maxFd).toBeGreaterThan(1e-4); // the check is meaningful: this tensor affects the loss
        expect(maxErr / maxFd).toBeLessThan(5e-5);
      });
    }
  });
}

describe('gradient accumulation', () => {
  it('backward adds to existing gradients (two identical passes give twice the gradient)', () => {
    const config = makeConfig({ vocabSize: 11, contextLength: 7, dModel: 8, nLayer: 1, nHead: 2, dMlp: 12 });
    const model = createGpt(config, { seed: 3 });
    const batch = tinyBatch(11);
    zeroGrads(model);
    forward(model, batch);
    backward(model);
    const once = Float64Array.from(model.grads!);
    forward(model, batch);
    backward(model);
    for (let i = 0; i < once.length; i++) expect(model.grads![i]).toBeCloseTo(2 * once[i]!, 6);
  });
});
