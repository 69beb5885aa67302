import { describe, expect, it } from 'vitest';
import { ContextLengthError, makeConfig } from '../../src/engine/config.js';
import { createGpt } from '../../src/engine/model.js';
import { sample } from '../../src/engine/sample.js';
import { createCharTokenizer } from '../../src/engine/tokenizer.js';
import {
  type SftExample, type TrainProgress, type TrainState, encodeExample, evaluateLoss, learningRateAt, makeBatch, trainSft,
} from '../../src/engine/train.js';
import { createRng } from '../../src/util/random.js';

const tok = createCharTokenizer();
const smallConfig = makeConfig({ vocabSize: tok.vocabSize, contextLength: 16, dModel: 32, nLayer: 2, nHead: 2 });

/** "abc=" → "cba": a task that needs attention to positions, not just token statistics. */
function reverseTask(count: number, seed: number): SftExample[] {
  const rng = createRng(seed);
  return Array.from({ length: count }, () => {
    const s = Array.from({ length: rng.int(2, 6) }, () => 'abcdefgh'[rng.int(0, 7)]).join('');
    return { prompt: `${s}=`, completion: [...s].reverse().join('') };
  });
}

describe('SFT encoding', () => {
  it('is BOS prompt completion EOS with the loss on completion and EOS only', () => {
    const e = encodeExample(tok, { prompt: 'ab', completion: 'c' });
    const [a, b, c] = tok.encode('abc');
    expect(e.input).toEqual([tok.bos, a, b, c]);
    expect(e.target).toEqual([a, b, c, tok.eos]);
    const batch = makeBatch([e, encodeExample(tok, { prompt: '', completion: 'x' })], tok.pad);
    expect(batch.T).toBe(4);
    expect(Array.from(batch.mask)).toEqual([0, 0, 1, 1, 1, 1, 0, 0]); // second row: right padding masked
    expect(Array.from(batch.tokens.subarray(4))).toEqual([tok.bos, tok.encode('x')[0], tok.pad, tok.pad]);
  });

  it('learning rate: linear warmup then cosine to the minimum', () => {
    expect(learningRateAt(0, 100, 10, 1, 0.1)).toBeCloseTo(0.1);
    expect(learningRateAt(9, 100, 10, 1, 0.1)).toBeCloseTo(1);
    expect(learningRateAt(10, 100, 10, 1, 0.1)).toBeCloseTo(1);
    expect(learningRateAt(55, 100, 10, 1, 0.1)).toBeCloseTo(0.55);
    expect(learningRateAt(100, 100, 10, 1, 0.1)).toBeCloseTo(0.1);
  });
});

describe('trainSft', () => {
  it('overfits a tiny reverse task to 100% greedy accuracy', () => {
    const data = reverseTask(24, 5);
    const model = createGpt(smallConfig, { seed: 1 });
    const before = evaluateLoss(model, tok, data);
    const progress: TrainProgress[] = [];
    const result = trainSft(model, tok, data, {
      maxSteps: 300, batchSize: 8, learningRate: 3e-3, weightDecay: 0, seed: 2, onProgress: (p) => progress.push(p),
    });
    expect(result.steps).toBe(300);
    expect(progress.map((p) => p.step)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(progress.every((p) => p.totalSteps === 300 && p.lr > 0 && p.tokens > 0)).toBe(true);
    const after = evaluateLoss(model, tok, data);
    expect(before).toBeGreaterThan(3);
    expect(after).toBeLessThan(0.1);
    const out = sample(model, tok, data.map((d) => d.prompt), { temperature: 0 });
    const correct = out.filter((o, i) => o[0]!.text === data[i]!.completion && o[0]!.finishReason === 'eos').length;
    expect(correct).toBe(data.length);
  });

  it('is bit-reproducible for a seed, and the seed matters', () => {
    const data = reverseTask(20, 6);
    const run = (seed: number): Float32Array => {
      const model = createGpt(smallConfig, { seed: 3 });
      trainSft(model, tok, data, { maxSteps: 12, batchSize: 6, seed });
      return model.params;
    };
    const a = run(7);
    const b = run(7);
    const c = run(8);
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    expect(Buffer.from(a.buffer).equals(Buffer.from(c.buffer))).toBe(false);
  });

  it('continues from a snapshot bit for bit, across epochs (a killed training resumes exactly)', () => {
    const data = reverseTask(20, 6);
    const options = { maxSteps: 14, batchSize: 6, seed: 7, snapshotEveryMs: 0 };
    const whole = createGpt(smallConfig, { seed: 3 });
    const states: TrainState[] = [];
    const full = trainSft(whole, tok, data, {
      ...options, onSnapshot: (st) => states.push({ ...st, params: st.params.slice(), m: st.m.slice(), v: st.v.slice(), losses: [...st.losses] }),
    });
    expect(states.map((st) => st.step)).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
    // Step 9 is in the third epoch (4 batches per epoch): the seeded batch order must carry over.
    const resumed = createGpt(smallConfig, { seed: 99 });
    const rest = trainSft(resumed, tok, data, { ...options, resume: states[8]! });
    expect(Buffer.from(resumed.params.buffer).equals(Buffer.from(whole.params.buffer))).toBe(true);
    expect(rest.losses).toEqual(full.losses);
    expect(rest.steps).toBe(14);
    expect(() => trainSft(createGpt(smallConfig, { seed: 3 }), tok, data, { ...options, resume: { ...states[0]!, step: 15 } })).toThrow(/outside 0..14/);
    expect(() => trainSft(createGpt(smallConfig, { seed: 3 }), tok, data, { ...options, resume: states[0]!, validation: data.slice(0, 2) }))
      .toThrow(/not with validation/);
  });

  it('batch padding does not change any example\'s loss (causal attention, masked padding)', () => {
    const model = createGpt(smallConfig, { seed: 4 });
    const a = { prompt: 'abcdef=', completion: 'fedcba' };
    const b = { prompt: 'x=', completion: 'x' };
    const la = evaluateLoss(model, tok, [a]);
    const lb = evaluateLoss(model, tok, [b]);
    // Token-weighted: a has 6 + 1 loss tokens, b has 1 + 1.
    expect(evaluateLoss(model, tok, [a, b])).toBeCloseTo((7 * la + 2 * lb) / 9, 5);
  });

  it('measures validation loss, stops early with patience and restores the best weights', () => {
    // Validation asks for the opposite of training (copy vs reverse), so it gets worse as training fits.
    const train = reverseTask(24, 9).filter((d) => d.completion !== [...d.completion].reverse().join(''));
    const validation = train.map((d) => ({ prompt: d.prompt, completion: d.prompt.slice(0, -1) }));
    const model = createGpt(smallConfig, { seed: 5 });
    const result = trainSft(model, tok, train, {
      maxSteps: 400, batchSize: 8, learningRate: 3e-3, seed: 1, validation, evalEvery: 10, patience: 3,
    });
    expect(result.stoppedEarly).toBe(true);
    expect(result.steps).toBeLessThan(400);
    expect(result.valLosses.length).toBeGreaterThanOrEqual(4);
    const last = result.valLosses.slice(-3).map((v) => v.loss);
    expect(Math.min(...last)).toBeGreaterThanOrEqual(result.bestValLoss!);
    expect(evaluateLoss(model, tok, validation, { batchSize: 8 })).toBeCloseTo(result.bestValLoss!, 5);
  });

  it('rejects examples that do not fit the context, or leaves them out on request', () => {
    const model = createGpt(smallConfig, { seed: 6 });
    const long = { prompt: 'x'.repeat(10), completion: 'y'.repeat(10) };
    expect(() => trainSft(model, tok, [long], { maxSteps: 1 })).toThrow(ContextLengthError);
    expect(() => trainSft(model, tok, [long], { maxSteps: 1 })).toThrow(/example 0 needs 22 tokens.*context length 16/);
    const fits = { prompt: 'x'.repeat(5), completion: 'y'.repeat(9) }; // BOS + 14 + EOS = 16 inputs + 1
    const r = trainSft(model, tok, [long, fits], { maxSteps: 2, tooLong: 'skip' });
    expect(r.skipped).toBe(1);
    expect(r.steps).toBe(2);
  });

  it('applies weight decay to matrices only', () => {
    const data = reverseTask(8, 4);
    const run = (weightDecay: number) => {
      const model = createGpt(smallConfig, { seed: 8 });
      trainSft(model, tok, data, { maxSteps: 1, batchSize: 8, weightDecay, learningRate: 1e-2, warmupSteps: 0 });
      return model;
    };
    const plain = run(0);
    const decayed = run(0.5);
    for (const t of plain.tensors) {
      const a = plain.params.subarray(t.offset, t.offset + t.size);
      const b = decayed.params.subarray(t.offset, t.offset + t.size);
      const same = a.every((v, i) => v === b[i]);
      expect(same, t.name).toBe(!t.decay);
      expect(t.decay, t.name).toBe(t.shape.length === 2);
    }
  });

  it('reports the scheduled learning rate and the pre-clip gradient norm', () => {
    const model = createGpt(smallConfig, { seed: 9 });
    const seen: TrainProgress[] = [];
    trainSft(model, tok, reverseTask(16, 2), {
      maxSteps: 20, batchSize: 4, learningRate: 2e-3, warmupSteps: 5, gradClip: 1e-3, onProgress: (p) => seen.push(p),
    });
    seen.forEach((p, i) => expect(p.lr).toBeCloseTo(learningRateAt(i, 20, 5, 2e-3, 2e-4), 12));
    expect(seen.every((p) => p.gradNorm > 1e-3)).toBe(true); // measured before clipping to 1e-3
  });

  it('counts epochs into steps and handles a partial last batch', () => {
    const model = createGpt(smallConfig, { seed: 7 });
    const epochs: number[] = [];
    const r = trainSft(model, tok, reverseTask(10, 3), { epochs: 3, batchSize: 4, onProgress: (p) => epochs.push(p.epoch) });
    expect(r.steps).toBe(9);
    expect(epochs).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2]);
  });
});
