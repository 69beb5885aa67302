/** The GPT on the wasm backend against the same GPT on the plain-JS reference backend: one forward
 * and backward pass on a small model with odd sizes must agree to float32 rounding. */
import { describe, expect, it } from 'vitest';
import { JsBackend } from '../../src/engine/backends/js.js';
import { createWasmBackend } from '../../src/engine/backends/wasm.js';
import type { ModelConfig } from '../../src/engine/config.js';
import { backward, createGpt, forward, zeroGrads } from '../../src/engine/model.js';
import type { Backend } from '../../src/engine/backend.js';
import { createRng } from '../../src/util/random.js';

const config: ModelConfig = { vocabSize: 23, contextLength: 13, dModel: 24, nLayer: 2, nHead: 3, dMlp: 40, tiedEmbeddings: true };

function lossAndGrads(backend: Backend): { loss: number; grads: Float32Array } {
  const model = createGpt(config, { backend, seed: 3 });
  const B = 3, T = 11, rng = createRng(4);
  const batch = {
    B, T,
    tokens: Int32Array.from({ length: B * T }, () => rng.int(0, config.vocabSize - 1)),
    targets: Int32Array.from({ length: B * T }, () => rng.int(0, config.vocabSize - 1)),
    mask: Float32Array.from({ length: B * T }, (_, i) => (i % T < 3 ? 0 : 1)),
  };
  zeroGrads(model);
  const loss = forward(model, batch);
  backward(model);
  return { loss, grads: Float32Array.from(model.grads!) };
}

describe('GPT on the wasm backend', () => {
  const ref = lossAndGrads(new JsBackend());
  for (const [threads, simd] of [[1, 'relaxed'], [2, 'relaxed'], [2, 'simd']] as const) {
    it(`matches the JS backend (${simd}, ${threads} thread${threads > 1 ? 's' : ''})`, () => {
      const be = createWasmBackend({ threads, simd, adaptive: false });
      try {
        const got = lossAndGrads(be);
        // Both backends round every kernel output to float32, in different orders: the loss agrees
        // to ~1e-6 relative and each gradient to ~1e-4 of the largest gradient.
        expect(Math.abs(got.loss - ref.loss)).toBeLessThan(1e-5 * ref.loss);
        let maxAbs = 0, maxDiff = 0;
        for (let i = 0; i < ref.grads.length; i++) {
          maxAbs = Math.max(maxAbs, Math.abs(ref.grads[i]!));
          maxDiff = Math.max(maxDiff, Math.abs(got.grads[i]! - ref.grads[i]!));
        }
        expect(maxAbs).toBeGreaterThan(0);
        expect(maxDiff).toBeLessThan(1e-4 * maxAbs);
      } finally {
        be.close();
      }
    });
  }
});

describe('KV-cached sampling on the wasm backend', () => {
  it('decodes the same greedy text and log-probabilities as the JS backend', async () => {
    const { sample } = await import('../../src/engine/sample.js');
    const { createCharTokenizer } = await import('../../src/engine/tokenizer.js');
    const tokenizer = createCharTokenizer('abcdefgh\n');
    const cfg: ModelConfig = { ...config, vocabSize: tokenizer.vocabSize, contextLength: 32 };
    const prompts = ['abc\n', 'hgf', 'a', 'dddd\nab'];
    const run = (backend: Backend) => sample(createGpt(cfg, { backend, seed: 9 }), tokenizer, prompts, { n: 3, temperature: 0, maxTokens: 20 });
    const ref = run(new JsBackend());
    const be = createWasmBackend({ threads: 2, adaptive: false });
    try {
      const got = run(be);
      expect(got.map((r) => r.map((c) => c.text))).toEqual(ref.map((r) => r.map((c) => c.text)));
      got.flat().forEach((c, i) => c.logprobs.forEach((lp, j) => expect(lp).toBeCloseTo(ref.flat()[i]!.logprobs[j]!, 4)));
    } finally {
      be.close();
    }
  });
  it('takes views of the memory after growing it (argument tables at the end of memory)', () => {
    const be = createWasmBackend({ threads: 2, adaptive: false });
    try {
      // Fill the memory to its end, as training's buffers can, so the next reservation must grow it.
      const internals = be as unknown as { memory: WebAssembly.Memory; top: number; intArgs(n: number): Int32Array };
      be.alloc(Math.floor((internals.memory.buffer.byteLength - internals.top) / 4));
      const before = internals.memory.buffer.byteLength;
      expect(internals.intArgs(5000).length).toBeGreaterThanOrEqual(5000);
      expect(internals.memory.buffer.byteLength).toBeGreaterThan(before);
    } finally {
      be.close();
    }
  });
});

describe('fused decoding step on the wasm backend', () => {
  // Odd sizes: V not a multiple of 4, head size 40 (one 32-column pass and a 4-wide one), MLP width
  // not a multiple of the tile, an untied head, 7 rows; enough work that 2 threads split the rows.
  const cfg: ModelConfig = { ...config, contextLength: 16, dModel: 120, nHead: 3, dMlp: 200, tiedEmbeddings: false };
  const n = 7;
  const slots = [5, 0, 3, 8, 1, 6, 2];
  /** Prefill 4 tokens into every slot, then 3 decoding steps at staggered positions. */
  async function decode(backend: Backend, fused: boolean): Promise<Float32Array[]> {
    const { prefill, prepareDecode, decodeStep, reserveKvCache } = await import('../../src/engine/model.js');
    const model = createGpt(cfg, { backend, seed: 5 });
    reserveKvCache(model, 9);
    const rng = createRng(6);
    const T = 4;
    prefill(model, Int32Array.from({ length: 9 * T }, () => rng.int(0, cfg.vocabSize - 1)), 9, T, [...Array(9).keys()]);
    const session = fused ? prepareDecode(model) : null;
    if (fused) expect(session).not.toBeNull();
    const out: Float32Array[] = [];
    for (let step = 0; step < 3; step++) {
      const tokens = slots.map(() => rng.int(0, cfg.vocabSize - 1));
      // Positions differ per sequence; earlier positions are overwritten, which is allowed.
      const positions = slots.map((_, i) => (T + step + i) % cfg.contextLength);
      out.push(decodeStep(model, slots, tokens, positions, session).slice(0, n * cfg.vocabSize));
    }
    return out;
  }

  for (const [threads, simd] of [[1, 'relaxed'], [2, 'relaxed'], [2, 'simd']] as const) {
    it(`matches the layer-by-layer step and the JS backend (${simd}, ${threads} thread${threads > 1 ? 's' : ''})`, async () => {
      const ref = await decode(new JsBackend(), false);
      const be = createWasmBackend({ threads, simd, adaptive: false });
      try {
        const fused = await decode(be, true);
        const layered = await decode(be, false);
        let maxAbs = 0, dFused = 0, dLayered = 0;
        ref.forEach((r, s) => r.forEach((x, i) => {
          maxAbs = Math.max(maxAbs, Math.abs(x));
          dFused = Math.max(dFused, Math.abs(fused[s]![i]! - x));
          dLayered = Math.max(dLayered, Math.abs(layered[s]![i]! - x));
        }));
        expect(maxAbs).toBeGreaterThan(0.05);
        expect(dFused).toBeLessThan(1e-5 * Math.max(1, maxAbs));
        expect(dLayered).toBeLessThan(1e-5 * Math.max(1, maxAbs));
      } finally {
        be.close();
      }
    });
  }

  it('rejects a slot used twice and a session whose KV cache was re-reserved', async () => {
    const { prepareDecode, decodeStep, reserveKvCache } = await import('../../src/engine/model.js');
    const be = createWasmBackend({ threads: 2, adaptive: false });
    try {
      const model = createGpt(cfg, { backend: be, seed: 5 });
      reserveKvCache(model, 2);
      const session = prepareDecode(model);
      expect(() => decodeStep(model, [1, 1], [3, 4], [0, 0], session)).toThrow(/used twice/);
      expect(() => decodeStep(model, [0, 2], [3, 4], [0, 0], session)).toThrow(RangeError);
      decodeStep(model, [0, 1], [3, 4], [0, 0], session);
      reserveKvCache(model, 4);
      expect(() => decodeStep(model, [0, 1], [3, 4], [1, 1], session)).toThrow(/stale/);
      // A fresh session reuses the packed buffers of the last one.
      const again = prepareDecode(model);
      expect(again!.plan).not.toBe(session!.plan);
      decodeStep(model, [0, 3], [3, 4], [1, 0], again);
    } finally {
      be.close();
    }
  });
});
