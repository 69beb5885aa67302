/** The embedded engine as the loop's policy and trainer: the in-process GPT, checkpoints on disk. */
import type { RunConfig } from '../loop/config.js';
import type { Backend } from '../engine/backend.js';
import { jsBackend } from '../engine/backends/js.js';
import { loadCheckpoint, saveCheckpointAsync } from '../engine/checkpoint.js';
import { makeConfig, countParams } from '../engine/config.js';
import { createGpt } from '../engine/model.js';
import { sample } from '../engine/sample.js';
import { CharTokenizer } from '../engine/tokenizer.js';
import { trainSft } from '../engine/train.js';
import type { Policy, PolicyFactory, Trainer } from './types.js';

export interface EmbeddedEngine {
  /** One line for logs: model size and backend. */
  describe: string;
  trainer: Trainer;
  openPolicy: PolicyFactory;
  close(): Promise<void>;
}

/** Prompts decoded per call, so progress can be reported and the event loop breathes. */
const PROMPTS_PER_CHUNK = 32;

export function createEmbeddedEngine(config: RunConfig, backend: Backend = jsBackend): EmbeddedEngine {
  const tokenizer = new CharTokenizer();
  const modelConfig = makeConfig({
    vocabSize: tokenizer.vocabSize,
    contextLength: config.model.contextLength,
    dModel: config.model.dModel,
    nLayer: config.model.nLayer,
    nHead: config.model.nHead,
  });

  const trainer: Trainer = {
    async train({ examples, base, outDir, seed, epochs, batchSize, lr, onProgress }) {
      const loaded = base === null ? null : loadCheckpoint(base, { backend });
      const model = loaded?.model ?? createGpt(modelConfig, { backend, seed });
      const tok = loaded?.tokenizer ?? tokenizer;
      const steps = Math.max(1, Math.ceil(epochs * Math.ceil(examples.length / batchSize)));
      const result = trainSft(model, tok, examples, {
        maxSteps: steps, batchSize, learningRate: lr, seed, tooLong: 'skip',
        onProgress: (info) => onProgress?.(info.step, info.totalSteps, info.loss),
      });
      await saveCheckpointAsync(outDir, model, tok, { metadata: { steps: String(result.steps) } });
      const tail = result.losses.slice(-Math.max(1, Math.ceil(examples.length / batchSize)));
      return { checkpoint: outDir, loss: tail.reduce((a, b) => a + b, 0) / tail.length, steps: result.steps };
    },
  };

  const openPolicy: PolicyFactory = async (dir) => {
    const { model, tokenizer: tok } = loadCheckpoint(dir, { backend });
    const policy: Policy = {
      name: dir,
      async sample(prompts, { n, temperature, maxTokens, seed, onProgress }) {
        const out: string[][] = [];
        for (let start = 0; start < prompts.length; start += PROMPTS_PER_CHUNK) {
          const chunk = prompts.slice(start, start + PROMPTS_PER_CHUNK);
          const completions = sample(model, tok, chunk, { n, temperature, maxTokens, seed: (seed + start) >>> 0, truncatePrompt: 'left' });
          for (const c of completions) out.push(c.map((x) => x.text));
          onProgress?.(out.length, prompts.length);
          await new Promise((r) => setImmediate(r));
        }
        return out;
      },
    };
    return policy;
  };

  return {
    describe: `embedded GPT ${(countParams(modelConfig) / 1e6).toFixed(2)}M params, ${backend.name} backend (${backend.threads} thread${backend.threads === 1 ? '' : 's'})`,
    trainer,
    openPolicy,
    close: async () => {},
  };
}
