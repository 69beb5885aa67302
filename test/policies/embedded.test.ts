/** The embedded trainer as the loop uses it: a training killed midway continues from its snapshot
 * and ends with the same checkpoint as one never interrupted. */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../../src/loop/config.js';
import { createEmbeddedEngine, SNAPSHOT_SUFFIX } from '../../src/policies/embedded.js';
import type { TrainRequest } from '../../src/policies/types.js';

const tmp = mkdtempSync(join(tmpdir(), 'ceiling-embedded-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const config = resolveConfig('demo', { domain: 'arithmetic', model: { dModel: 32, nLayer: 1, nHead: 2, contextLength: 48 } });
const examples = Array.from({ length: 40 }, (_, i) => ({ prompt: `Evaluate ${i} + ${i % 7}\n`, completion: `${i} + ${i % 7} = ${i + (i % 7)}\n#### ${i + (i % 7)}` }));
const request = (outDir: string, extra: Partial<TrainRequest> = {}): TrainRequest =>
  ({ examples, base: null, outDir, seed: 5, epochs: 2, batchSize: 8, lr: 1e-3, ...extra });

describe('embedded trainer snapshots', () => {
  it('continues a killed training from its snapshot and ends with the same checkpoint', async () => {
    const engine = createEmbeddedEngine(config, 'js', 0);
    try {
      const whole = join(tmp, 'whole');
      await engine.trainer.train(request(whole));
      expect(existsSync(whole + SNAPSHOT_SUFFIX)).toBe(false);

      const killed = join(tmp, 'killed');
      await expect(engine.trainer.train(request(killed, {
        onProgress: (step) => { if (step === 6) throw new Error('killed'); },
      }))).rejects.toThrow('killed');
      expect(existsSync(killed + SNAPSHOT_SUFFIX)).toBe(true);
      expect(existsSync(killed)).toBe(false);

      const lines: string[] = [];
      const steps: number[] = [];
      const result = await engine.trainer.train(request(killed, { log: (l) => lines.push(l), onProgress: (s) => steps.push(s) }));
      expect(lines).toEqual(['continuing from the snapshot at step 5 of 10']);
      expect(steps).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
      expect(result.steps).toBe(10);
      expect(readFileSync(join(killed, 'model.safetensors'))).toEqual(readFileSync(join(whole, 'model.safetensors')));
      expect(existsSync(killed + SNAPSHOT_SUFFIX)).toBe(false);
    } finally {
      await engine.close();
    }
  });

  it('sets aside a snapshot of another training or a damaged one, and trains from the start', async () => {
    const engine = createEmbeddedEngine(config, 'js', 0);
    try {
      const out = join(tmp, 'other');
      await expect(engine.trainer.train(request(out, { onProgress: (step) => { if (step === 4) throw new Error('killed'); } }))).rejects.toThrow();
      const lines: string[] = [];
      await engine.trainer.train(request(out, { lr: 2e-3, log: (l) => lines.push(l) }));
      expect(lines).toEqual([expect.stringMatching(/snapshot\.safetensors belongs to another training: training from the start$/)]);

      writeFileSync(out + SNAPSHOT_SUFFIX, 'not a safetensors file');
      lines.length = 0;
      await engine.trainer.train(request(out, { log: (l) => lines.push(l) }));
      expect(lines).toEqual([expect.stringMatching(/snapshot\.safetensors is unreadable \(.*\): training from the start$/)]);
      expect(existsSync(out + SNAPSHOT_SUFFIX)).toBe(false);
    } finally {
      await engine.close();
    }
  });
});
