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
});
