/** The served models: the base checkpoint plus checkpoints loaded at run time under new names
 * (the `/v1/load_lora_adapter` route: for the embedded engine an "adapter" is a whole checkpoint
 * directory, typically one the trainer derived from the base). */
import { resolve } from 'node:path';
import { type Backend, type CharTokenizer, type Gpt, CheckpointError, loadCheckpoint } from '../engine/index.js';
import { ApiError, modelNotFound } from './errors.js';

export interface ServedModel {
  /** Distinguishes two loads under the same name (batches never mix them). */
  readonly uid: number;
  readonly name: string;
  readonly dir: string;
  /** The base model's name for loaded checkpoints, null for the base itself. */
  readonly parent: string | null;
  readonly created: number;
  readonly model: Gpt;
  readonly tokenizer: CharTokenizer;
  readonly contextLength: number;
}

let nextUid = 1;

export class ModelRegistry {
  private readonly models = new Map<string, ServedModel>();

  constructor(private readonly backend: Backend | undefined, private readonly maxModels: number) {}

  /** Loads `dir` under `name`. Throws CheckpointError for an unreadable checkpoint. */
  add(name: string, dir: string, parent: string | null): ServedModel {
    const abs = resolve(dir);
    const { model, tokenizer } = loadCheckpoint(abs, this.backend ? { backend: this.backend } : {});
    const served: ServedModel = {
      uid: nextUid++, name, dir: abs, parent, created: Math.floor(Date.now() / 1000), model, tokenizer,
      contextLength: model.config.contextLength,
    };
    this.models.set(name, served);
    return served;
  }

  get(name: string): ServedModel {
    const m = this.models.get(name);
    if (!m) throw modelNotFound(name);
    return m;
  }

  has(name: string): boolean {
    return this.models.has(name);
  }

  list(): ServedModel[] {
    return [...this.models.values()];
  }

  /** vLLM's load_lora_adapter: 400 when the name is taken (unless `inplace`), 404 when the path has
   * no checkpoint, 400 when it is not a readable one. */
  loadAdapter(name: string, path: string, base: string, inplace: boolean): ServedModel {
    const existing = this.models.get(name);
    if (existing && existing.parent === null) throw new ApiError(400, `'${name}' is the base model's name.`, 'invalid_request_error', 'lora_name', 'invalid_value');
    if (existing && !inplace) {
      throw new ApiError(400, `The adapter '${name}' has already been loaded.`, 'invalid_request_error', 'lora_name', 'already_loaded');
    }
    if (!existing && this.models.size >= this.maxModels) {
      throw new ApiError(400, `At most ${this.maxModels} models can be loaded; unload one first.`, 'invalid_request_error', 'lora_name', 'too_many_models');
    }
    try {
      return this.add(name, path, base);
    } catch (err) {
      if (err instanceof CheckpointError) {
        const missing = /no such directory/.test(err.message);
        throw new ApiError(missing ? 404 : 400, `Cannot load '${path}': ${err.message}`, missing ? 'NotFoundError' : 'invalid_request_error', 'lora_path', missing ? 'not_found' : 'invalid_checkpoint');
      }
      throw err;
    }
  }

  unloadAdapter(name: string): void {
    const m = this.models.get(name);
    if (!m) throw new ApiError(404, `The adapter '${name}' cannot be found.`, 'NotFoundError', 'lora_name', 'not_found');
    if (m.parent === null) throw new ApiError(400, `'${name}' is the base model and cannot be unloaded.`, 'invalid_request_error', 'lora_name', 'invalid_value');
    this.models.delete(name);
  }
}
