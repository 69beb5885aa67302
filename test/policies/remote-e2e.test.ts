/** End to end on this machine: `ceiling serve` in a child process serves a random-init checkpoint;
 * the loop samples through the HTTP policy, hands training to `ceiling train-sft` through the
 * command template, hot-loads each result with /v1/load_lora_adapter, and the next round samples
 * from the new model name. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getDomain } from '../../src/domains/index.js';
import { resolveConfig } from '../../src/loop/config.js';
import { silentProgress } from '../../src/loop/progress.js';
import { runMethod } from '../../src/loop/run.js';
import { SERVED_NAME_FILE } from '../../src/policies/command-trainer.js';
import { createRemoteEngine } from '../../src/policies/remote.js';
import { parseMetrics } from '../../src/serve/metrics.js';
import { RunStore } from '../../src/store/run-store.js';
import { BIN, ensureBuilt, makeCheckpoint, type ServeProcess, startServeProcess, tempDir } from '../serve/helpers.js';

const tmp = tempDir('ceiling-e2e-');
let serve: ServeProcess;

beforeAll(async () => {
  await ensureBuilt();
  makeCheckpoint(join(tmp.dir, 'base'), { dModel: 24, nLayer: 1, nHead: 2, contextLength: 128 });
  serve = await startServeProcess(['--checkpoint', join(tmp.dir, 'base'), '--model-name', 'base']);
}, 240_000);

afterAll(async () => {
  const code = await serve?.stop();
  tmp.remove();
  expect(code).toBe(0);
});

describe('remote engine end to end', () => {
  it('runs Auto-CEI through ceiling serve and ceiling train-sft', async () => {
    const config = resolveConfig('demo', {
      domain: 'arithmetic',
      method: 'autocei',
      seed: 3,
      problems: { difficulties: [1, 2], train: 16, val: 8, test: 8 },
      model: { dModel: 24, nLayer: 1, nHead: 2, contextLength: 128 },
      // Enough steps that the tiny model learns the refusal sentence, so later rounds have data.
      init: { epochs: 75, batchSize: 16, lr: 1e-2, refusalFraction: 1, probeProblems: 0 },
      ei: { n: 4, maxTokens: 64, epochs: 1, batchSize: 16, lr: 1e-3, rounds: 1, mode: 'continue' },
      curriculum: { maxStages: 1, roundsPerStage: 1 },
      eval: { k: 0, maxTokens: 64 },
    });
    const dir = join(tmp.dir, 'run');
    mkdirSync(dir);
    const logLines: string[] = [];
    const engine = createRemoteEngine({
      baseURL: `${serve.url}/v1`,
      baseModel: 'base',
      baseModelPath: join(tmp.dir, 'base'),
      train: {
        command: `node "${BIN}" train-sft --data {data} --base {base} --out {out} --epochs {epochs} --lr {lr} --batch-size {batch_size} --seed {seed}`,
        onLog: (l) => logLines.push(l),
      },
      policy: { concurrency: 8 },
    });
    const store = RunStore.open(join(dir, 'run.db'));
    let rounds;
    try {
      await runMethod(dir, config, store, { domain: getDomain('arithmetic'), trainer: engine.trainer, openPolicy: engine.openPolicy, progress: silentProgress });
      rounds = store.rounds();
    } finally {
      store.close();
      await engine.close();
    }
    expect(rounds.map((r) => r.phase)).toEqual(['sft', 'init', 'ei', 'stage', 'final']);
    const init = rounds[0]!;
    expect(Number.isFinite(init.trainLoss)).toBe(true);

    // Each trained round was exported in both TRL formats, logged, and given a served name.
    expect(existsSync(join(dir, 'train-data', 'init.jsonl'))).toBe(true);
    expect(existsSync(join(dir, 'train-data', 'init.messages.jsonl'))).toBe(true);
    expect(readFileSync(join(dir, 'logs', 'train-init.log'), 'utf8')).toContain('"done":true');
    expect(logLines.some((l) => l.includes('"total_steps"'))).toBe(true);
    const trained = [...new Set(rounds.slice(0, -1).map((r) => r.checkpoint!))];
    const names = trained.map((c) => JSON.parse(readFileSync(join(dir, c, SERVED_NAME_FILE), 'utf8')).name as string);
    expect(names.length).toBeGreaterThanOrEqual(2);
    expect(new Set(names).size).toBe(names.length);

    // The server saw sampling requests for every trained model's name (the EI round sampled from
    // the init model, the stage round from the EI round's model), and none for the untrained base.
    const m = parseMetrics(await (await fetch(`${serve.url}/metrics`)).text());
    for (const name of names) expect(m.get(`ceiling_model_requests_total{model="${name}"}`) ?? 0, name).toBeGreaterThan(0);
    expect(m.get('ceiling_model_requests_total{model="base"}')).toBeUndefined();
    // Adapters were unloaded when their policies closed.
    const models = (await (await fetch(`${serve.url}/v1/models`)).json()) as { data: { id: string }[] };
    expect(models.data.map((d) => d.id)).toEqual(['base']);
  }, 240_000);
});
