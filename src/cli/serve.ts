/** `ceiling serve`: an embedded checkpoint behind the OpenAI HTTP API (see src/serve/server.ts). */
import type { Command } from 'commander';
import { setFlagsFromString } from 'node:v8';
import { CheckpointError } from '../engine/index.js';
import { startServe } from '../serve/server.js';
import { parseInteger } from './args.js';
import { UserError } from './errors.js';

interface ServeFlags {
  checkpoint: string;
  port: number;
  host: string;
  apiKey?: string;
  modelName?: string;
  lora: string[];
  batchWindowMs: number;
  maxBatch: number;
  maxBodyBytes: number;
  maxN: number;
  maxTokens: number;
  maxModels: number;
  truncatePrompt: string;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `NAME=DIR` pairs for --lora. */
function adapters(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const at = item.indexOf('=');
    if (at <= 0 || at === item.length - 1) throw new UserError(`--lora expects NAME=DIR, got '${item}'`);
    out[item.slice(0, at)] = item.slice(at + 1);
  }
  return out;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve an embedded checkpoint with the OpenAI API (/v1/completions, /v1/chat/completions, /v1/models, /v1/load_lora_adapter)')
    .requiredOption('--checkpoint <dir>', 'checkpoint directory to serve')
    .option('--port <n>', 'TCP port (0 = any free port)', parseInteger('--port', 0, 65535), 8000)
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--api-key <key>', 'require "Authorization: Bearer KEY" on /v1 routes (default: $CEILING_API_KEY, else none)')
    .option('--model-name <name>', 'name clients use for the model (default: the --checkpoint path)')
    .option('--lora <name=dir>', 'also serve checkpoint DIR as model NAME (repeatable)', collect, [])
    .option('--batch-window-ms <ms>', 'how long requests wait to be batched together', parseInteger('--batch-window-ms', 0, 10_000), 5)
    .option('--max-batch <n>', 'most sequences decoded in one batch', parseInteger('--max-batch', 1, 1_000_000), 128)
    .option('--max-body-bytes <n>', 'request body limit', parseInteger('--max-body-bytes', 1024, 1 << 30), 1 << 20)
    .option('--max-n <n>', 'largest n accepted', parseInteger('--max-n', 1, 100_000), 128)
    .option('--max-tokens <n>', 'largest max_tokens accepted', parseInteger('--max-tokens', 1, 1_000_000), 8192)
    .option('--max-models <n>', 'most models served at once, base included', parseInteger('--max-models', 1, 10_000), 32)
    .option('--truncate-prompt <mode>', 'prompt longer than the context: left (drop oldest characters) | error (400)', 'left')
    .action(async (flags: ServeFlags) => {
      if (flags.truncatePrompt !== 'left' && flags.truncatePrompt !== 'error') {
        throw new UserError(`--truncate-prompt must be left or error, got '${flags.truncatePrompt}'`);
      }
      const modelName = flags.modelName ?? flags.checkpoint;
      // Request objects live across a batch or two; a larger young generation lets them die there
      // instead of being promoted and piling up in the old generation between major collections.
      setFlagsFromString('--max-semi-space-size=16');
      let handle;
      try {
        handle = await startServe({
          checkpoint: flags.checkpoint, modelName, host: flags.host, port: flags.port,
          apiKey: flags.apiKey ?? (process.env.CEILING_API_KEY || undefined),
          adapters: adapters(flags.lora), batchWindowMs: flags.batchWindowMs, maxBatchSequences: flags.maxBatch,
          maxBodyBytes: flags.maxBodyBytes, limits: { maxN: flags.maxN, maxTokens: flags.maxTokens }, maxModels: flags.maxModels,
          truncatePrompt: flags.truncatePrompt,
        });
      } catch (err) {
        if (err instanceof CheckpointError) throw new UserError(err.message);
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
          throw new UserError(`cannot listen on ${flags.host}:${flags.port} (${code})`);
        }
        throw err;
      }
      process.stdout.write(`ceiling serve: model '${modelName}' on ${handle.url}/v1\n`);
      const h = handle;
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void h.close().then(resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
