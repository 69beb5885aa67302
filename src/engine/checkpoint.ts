/** Checkpoints: a directory with `model.safetensors` (one F32 tensor per parameter, GPT-2 names),
 * `config.json` (GPT-2 key names) and `tokenizer.json`. Written atomically as a whole directory.
 * Loading checks the files against each other and names the first problem in a CheckpointError. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Backend } from './backend.js';
import { ConfigError, configFromJson, configToJson } from './config.js';
import { type Gpt, allocGpt, paramLayout } from './model.js';
import { SafetensorsError, decodeSafetensors, encodeSafetensors } from './safetensors.js';
import { type CharTokenizer, TokenizerError, tokenizerFromJson } from './tokenizer.js';
import { writeDirAtomic, writeDirAtomicSync } from '../util/atomic.js';

export const WEIGHTS_FILE = 'model.safetensors';
export const CONFIG_FILE = 'config.json';
export const TOKENIZER_FILE = 'tokenizer.json';

/** A checkpoint that cannot be read: missing, corrupt, or inconsistent with its config. */
export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

export interface LoadedCheckpoint {
  model: Gpt;
  tokenizer: CharTokenizer;
  /** The safetensors `__metadata__` map. */
  metadata: Record<string, string>;
}

/** The checkpoint's files as bytes/text, keyed by file name. `metadata` goes into the safetensors
 * header (string values); `format: "pt"` marks the PyTorch GPT-2 tensor layout for other readers. */
export function checkpointFiles(model: Gpt, tokenizer: CharTokenizer, metadata: Readonly<Record<string, string>> = {}):
  Record<string, Uint8Array | string> {
  if (tokenizer.vocabSize !== model.config.vocabSize) {
    throw new CheckpointError(`tokenizer has ${tokenizer.vocabSize} tokens but the model's vocabulary is ${model.config.vocabSize}`);
  }
  const tensors = model.tensors.map((t) => ({ name: t.name, shape: t.shape, data: model.params.subarray(t.offset, t.offset + t.size) }));
  return {
    [WEIGHTS_FILE]: encodeSafetensors(tensors, { format: 'pt', producer: 'ceiling', ...metadata }),
    [CONFIG_FILE]: JSON.stringify(configToJson(model.config, tokenizer), null, 2) + '\n',
    [TOKENIZER_FILE]: JSON.stringify(tokenizer.toJSON()) + '\n',
  };
}

/** Write a checkpoint directory atomically (replacing an existing one). */
export function saveCheckpoint(dir: string, model: Gpt, tokenizer: CharTokenizer, options: { metadata?: Record<string, string> } = {}): void {
  writeDirAtomicSync(dir, checkpointFiles(model, tokenizer, options.metadata));
}

/** Promise form of `saveCheckpoint`. */
export async function saveCheckpointAsync(dir: string, model: Gpt, tokenizer: CharTokenizer,
  options: { metadata?: Record<string, string> } = {}): Promise<void> {
  await writeDirAtomic(dir, checkpointFiles(model, tokenizer, options.metadata));
}

function readFile(dir: string, name: string): Uint8Array {
  try {
    return fs.readFileSync(path.join(dir, name));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CheckpointError(`checkpoint ${dir}: missing ${name}`);
    throw new CheckpointError(`checkpoint ${dir}: cannot read ${name} (${code ?? (err as Error).message})`);
  }
}

function readJson(dir: string, name: string): unknown {
  const text = Buffer.from(readFile(dir, name)).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CheckpointError(`checkpoint ${dir}: ${name} is not valid JSON (${(err as Error).message})`);
  }
}

/** Read and validate a checkpoint directory into a model on `backend` (default: JS). */
export function loadCheckpoint(dir: string, options: { backend?: Backend } = {}): LoadedCheckpoint {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(dir);
  } catch {
    throw new CheckpointError(`checkpoint ${dir}: no such directory`);
  }
  if (!stat.isDirectory()) throw new CheckpointError(`checkpoint ${dir}: not a directory`);
  const fail = (msg: string): never => {
    throw new CheckpointError(`checkpoint ${dir}: ${msg}`);
  };
  /** Run a parser, turning its own error class into a CheckpointError with `prefix`. */
  const parse = <T>(fn: () => T, errorClass: new (...args: never[]) => Error, prefix = ''): T => {
    try {
      return fn();
    } catch (err) {
      if (err instanceof errorClass) return fail(prefix + err.message);
      throw err;
    }
  };

  const config = parse(() => configFromJson(readJson(dir, CONFIG_FILE)), ConfigError);
  const tokenizer = parse(() => tokenizerFromJson(readJson(dir, TOKENIZER_FILE)), TokenizerError);
  if (tokenizer.vocabSize !== config.vocabSize) {
    fail(`${TOKENIZER_FILE} has ${tokenizer.vocabSize} tokens but ${CONFIG_FILE} says vocab_size ${config.vocabSize}`);
  }
  const decoded = parse(() => decodeSafetensors(readFile(dir, WEIGHTS_FILE)), SafetensorsError, `${WEIGHTS_FILE}: `);

  const { tensors } = paramLayout(config);
  const expected = new Set(tensors.map((t) => t.name));
  for (const name of decoded.tensors.keys()) {
    if (!expected.has(name)) fail(`${WEIGHTS_FILE}: unexpected tensor '${name}' for the architecture in ${CONFIG_FILE}`);
  }
  const model = allocGpt(config, options.backend);
  for (const t of model.tensors) {
    const found = decoded.tensors.get(t.name) ?? fail(`${WEIGHTS_FILE}: missing tensor '${t.name}'`);
    if (found.shape.length !== t.shape.length || found.shape.some((d, i) => d !== t.shape[i])) {
      fail(`${WEIGHTS_FILE}: tensor '${t.name}' has shape [${found.shape.join(', ')}], expected [${t.shape.join(', ')}] from ${CONFIG_FILE}`);
    }
    model.params.set(found.data, t.offset);
  }
  return { model, tokenizer, metadata: decoded.metadata };
}
