/** `ceiling train-sft`: fine-tunes an embedded checkpoint on a TRL JSONL file (prompt/completion or
 * messages lines) and writes a new checkpoint. It is shaped like an external trainer command, so the
 * command-template hand-off runs end to end without a GPU. Progress goes to stdout as JSON lines:
 * `{"step","total_steps","loss"}`, then `{"done":true,"steps","loss","out"}`. */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { CheckpointError, loadCheckpoint, saveCheckpointAsync, trainSft, type CharTokenizer, type Gpt } from '../engine/index.js';
import type { Example } from '../policies/types.js';
import { DatasetError, parseTrlJsonl } from '../policies/export.js';
import { openBackend } from '../policies/embedded.js';
import { parseInteger, parseNumber } from './args.js';
import { UserError } from './errors.js';

interface TrainSftFlags {
  data: string;
  base: string;
  out: string;
  epochs: number;
  lr: number;
  batchSize: number;
  seed: number;
}

/** Lines printed at most, so long runs do not flood a log. */
const PROGRESS_LINES = 100;

export function registerTrainSft(program: Command): void {
  program
    .command('train-sft')
    .description('fine-tune an embedded checkpoint on a TRL JSONL file ({"prompt","completion"} or {"messages"} lines)')
    .requiredOption('--data <file>', 'training set (JSONL)')
    .requiredOption('--base <dir>', 'checkpoint to start from')
    .requiredOption('--out <dir>', 'directory for the new checkpoint (replaced atomically)')
    .option('--epochs <x>', 'passes over the data (fractions allowed)', parseNumber('--epochs', 0.001, 100_000), 1)
    .option('--lr <x>', 'peak learning rate', parseNumber('--lr', 1e-8, 10), 1e-3)
    .option('--batch-size <n>', 'examples per step', parseInteger('--batch-size', 1, 65_536), 32)
    .option('--seed <n>', 'shuffling seed', parseInteger('--seed', 0, 2 ** 32 - 1), 0)
    .action(async (flags: TrainSftFlags) => {
      let text: string;
      try {
        text = readFileSync(flags.data, 'utf8');
      } catch (err) {
        throw new UserError(`cannot read --data ${flags.data}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      }
      let examples;
      try {
        examples = parseTrlJsonl(text, flags.data);
      } catch (err) {
        if (err instanceof DatasetError) throw new UserError(err.message);
        throw err;
      }
      if (examples.length === 0) throw new UserError(`${flags.data}: no training examples`);
      // The wasm kernels train a step 17× faster than the JS reference (README, Benchmarks);
      // CEILING_BACKEND picks the backend as it does for `run`.
      const backend = openBackend();
      let loaded;
      try {
        loaded = loadCheckpoint(flags.base, { backend });
      } catch (err) {
        if (err instanceof CheckpointError) throw new UserError(err.message);
        throw err;
      }
      try {
        await trainAndSave(flags, examples, loaded.model, loaded.tokenizer);
      } finally {
        backend.close?.();
      }
    });
}

/** Trains `model` on `examples`, printing progress lines, and writes the checkpoint to `--out`. */
async function trainAndSave(flags: TrainSftFlags, examples: Example[], model: Gpt, tokenizer: CharTokenizer): Promise<void> {
  const steps = Math.max(1, Math.ceil(flags.epochs * Math.ceil(examples.length / flags.batchSize)));
  const every = Math.max(1, Math.floor(steps / PROGRESS_LINES));
  let result;
  try {
    result = trainSft(model, tokenizer, examples, {
      maxSteps: steps, batchSize: flags.batchSize, learningRate: flags.lr, seed: flags.seed, tooLong: 'skip',
      onProgress: (p) => {
        if (p.step % every === 0 || p.step === p.totalSteps) {
          process.stdout.write(JSON.stringify({ step: p.step, total_steps: p.totalSteps, loss: p.loss }) + '\n');
        }
      },
    });
  } catch (err) {
    if (err instanceof RangeError) throw new UserError(`${flags.data}: ${err.message}`);
    throw err;
  }
  await saveCheckpointAsync(flags.out, model, tokenizer, { metadata: { steps: String(result.steps), data: flags.data } });
  const tail = result.losses.slice(-Math.max(1, Math.ceil(examples.length / flags.batchSize)));
  const loss = tail.reduce((a, b) => a + b, 0) / tail.length;
  process.stdout.write(JSON.stringify({ done: true, steps: result.steps, loss, skipped: result.skipped, out: flags.out }) + '\n');
}
