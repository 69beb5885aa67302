/** The loop on a served model: sampling through OpenAI-compatible servers, training through an
 * external command, and each trained checkpoint hot-loaded into the servers under a new model name
 * (vLLM's `POST /v1/load_lora_adapter`, which `ceiling serve` also speaks). Same shape as
 * `createEmbeddedEngine`, so `runMethod` takes either. */
import { resolve } from 'node:path';
import { z } from 'zod';
import { UserError } from '../cli/errors.js';
import { type CommandTrainerOptions, createCommandTrainer, defaultServedName, servedNameOf } from './command-trainer.js';
import { type OpenAIPolicyOptions, createOpenAIPolicy } from './openai.js';
import type { Policy, PolicyFactory, Trainer } from './types.js';

export interface RemoteEngineOptions {
  /** Server base URL(s), ending in /v1. Adapters are loaded into every one. */
  baseURL: string | readonly string[];
  /** The base model's served name (vLLM: --served-model-name, or the model path). */
  baseModel: string;
  /** The base model as the training command sees it ({base_model}; {base} for the first round):
   * a Hugging Face id or a local path (default: baseModel). */
  baseModelPath?: string;
  apiKey?: string;
  /** The training command and its settings (see command-trainer.ts). */
  train: Omit<CommandTrainerOptions, 'baseModel' | 'afterTrain'>;
  /** `vllm`: load each checkpoint with POST /v1/load_lora_adapter (vLLM, ceiling serve);
   * `none`: the command itself makes the model available as {name} (e.g. `ollama create {name}`). */
  loader?: 'vllm' | 'none';
  /** The path a server should read for a local checkpoint path (when it mounts the run directory
   * elsewhere, e.g. in a container). */
  mapPath?: (localPath: string) => string;
  /** Unload an adapter when its policy is closed (default true), so long runs do not pile up adapters. */
  unloadOnClose?: boolean;
  /** Sampling settings for every policy. */
  policy?: Omit<OpenAIPolicyOptions, 'baseURL' | 'model' | 'apiKey'>;
  /** Timeout of the adapter load/unload requests in ms (default 10 minutes: loading can be slow). */
  adminTimeoutMs?: number;
}

export interface RemoteEngine {
  describe: string;
  trainer: Trainer;
  openPolicy: PolicyFactory;
  close(): Promise<void>;
}

/** POST a JSON body to an admin route; resolves to the status and text. Network errors are retried
 * a few times since a server may be briefly busy loading. */
async function adminPost(url: string, body: unknown, apiKey: string | undefined, timeoutMs: number): Promise<{ status: number; text: string }> {
  let lastErr: unknown;
  for (let attempt = 0; attempt < 4; attempt++) {
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...(apiKey ? { Authorization: `Bearer ${apiKey}` } : {}) },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      return { status: res.status, text: await res.text() };
    } catch (err) {
      lastErr = err;
      await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
    }
  }
  throw new Error(`${url}: ${(lastErr as Error).message}`);
}

async function listModels(baseURL: string, apiKey: string | undefined, timeoutMs: number): Promise<string[]> {
  const res = await fetch(`${baseURL}/models`, {
    headers: apiKey ? { Authorization: `Bearer ${apiKey}` } : {},
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!res.ok) throw new Error(`${baseURL}/models: HTTP ${res.status}`);
  const j = (await res.json()) as { data?: { id?: unknown }[] };
  return (j.data ?? []).map((m) => String(m.id));
}

export function createRemoteEngine(options: RemoteEngineOptions): RemoteEngine {
  const urls = (typeof options.baseURL === 'string' ? [options.baseURL] : [...options.baseURL]).map((u) => u.replace(/\/+$/, ''));
  const loader = options.loader ?? 'vllm';
  const adminTimeout = options.adminTimeoutMs ?? 600_000;
  const mapPath = options.mapPath ?? ((p: string) => p);
  const baseModelPath = options.baseModelPath ?? options.baseModel;
  /** checkpoint path → served name, for checkpoints this process trained or opened. */
  const names = new Map<string, string>();

  const nameOf = (checkpoint: string): string => {
    const abs = resolve(checkpoint);
    if (abs === resolve(baseModelPath) || checkpoint === options.baseModel) return options.baseModel;
    let name = names.get(abs) ?? servedNameOf(abs);
    // A checkpoint made elsewhere: a fresh name, kept for this process.
    name ??= defaultServedName(abs);
    names.set(abs, name);
    return name;
  };

  const load = async (checkpoint: string, name: string): Promise<void> => {
    if (loader !== 'vllm' || name === options.baseModel) return;
    await Promise.all(urls.map(async (url) => {
      const r = await adminPost(`${url}/load_lora_adapter`, { lora_name: name, lora_path: mapPath(resolve(checkpoint)) }, options.apiKey, adminTimeout);
      // A name already loaded is the same checkpoint: names are unique per trained checkpoint.
      if (r.status === 200 || (r.status === 400 && /already/i.test(r.text))) return;
      throw new Error(`${url}/load_lora_adapter: loading ${checkpoint} as '${name}' failed with HTTP ${r.status}: ${r.text.slice(0, 500)}`);
    }));
  };

  const unload = async (name: string): Promise<void> => {
    if (loader !== 'vllm' || name === options.baseModel) return;
    await Promise.all(urls.map(async (url) => {
      const r = await adminPost(`${url}/unload_lora_adapter`, { lora_name: name }, options.apiKey, adminTimeout);
      if (r.status !== 200 && r.status !== 404) throw new Error(`${url}/unload_lora_adapter: '${name}': HTTP ${r.status}: ${r.text.slice(0, 500)}`);
    }));
  };

  const trainer = createCommandTrainer({
    ...options.train,
    baseModel: baseModelPath,
    afterTrain: async (checkpoint, name) => {
      names.set(resolve(checkpoint), name);
      await load(checkpoint, name);
    },
  });

  const openPolicy: PolicyFactory = async (checkpoint) => {
    const name = nameOf(checkpoint);
    if (loader === 'vllm' && name !== options.baseModel) {
      const missing = await Promise.all(urls.map(async (u) => !(await listModels(u, options.apiKey, adminTimeout)).includes(name)));
      if (missing.some(Boolean)) await load(checkpoint, name);
    }
    const policy = createOpenAIPolicy({ ...options.policy, baseURL: urls, model: name, apiKey: options.apiKey, name: `${name} (${checkpoint})` });
    const wrapped: Policy = {
      name: policy.name,
      sample: (prompts, o) => policy.sample(prompts, o),
      close: async () => {
        if (options.unloadOnClose ?? true) await unload(name);
      },
    };
    return wrapped;
  };

  const argv0 = typeof options.train.command === 'string' ? options.train.command.trim().split(/\s+/)[0] : options.train.command[0];
  return {
    describe: `served model '${options.baseModel}' at ${urls.join(', ')}; training by '${argv0} …'; adapters via ${loader === 'vllm' ? '/v1/load_lora_adapter' : 'the training command'}`,
    trainer,
    openPolicy,
    close: () => trainer.close(),
  };
}

/** The JSON form of the remote setup, for a config file (fields as in RemoteEngineOptions;
 * `apiKeyEnv` names an environment variable holding the key, so it need not sit in the file). */
export const RemoteConfigSchema = z.strictObject({
  baseURL: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  baseModel: z.string().min(1),
  baseModelPath: z.string().min(1).optional(),
  apiKeyEnv: z.string().min(1).optional(),
  loader: z.enum(['vllm', 'none']).optional(),
  unloadOnClose: z.boolean().optional(),
  train: z.strictObject({
    command: z.union([z.string().min(1), z.array(z.string()).min(1)]),
    cwd: z.string().optional(),
    env: z.record(z.string(), z.string()).optional(),
    timeoutMs: z.number().int().positive().optional(),
  }),
  policy: z.strictObject({
    api: z.enum(['completions', 'chat']).optional(),
    concurrency: z.number().int().min(1).max(4096).optional(),
    timeoutMs: z.number().int().positive().optional(),
    retries: z.number().int().min(0).max(100).optional(),
    nMode: z.enum(['auto', 'native', 'separate']).optional(),
    balance: z.enum(['least-outstanding', 'round-robin']).optional(),
    stop: z.array(z.string().min(1)).optional(),
    topP: z.number().gt(0).max(1).optional(),
    extraBody: z.record(z.string(), z.unknown()).optional(),
  }).optional(),
});

/** Validates a remote config object; the UserError names the first bad field. */
export function parseRemoteConfig(value: unknown, source = 'remote config'): RemoteEngineOptions {
  const r = RemoteConfigSchema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new UserError(`${source}: ${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`);
  }
  const c = r.data;
  const apiKey = c.apiKeyEnv ? process.env[c.apiKeyEnv] : undefined;
  if (c.apiKeyEnv && !apiKey) throw new UserError(`${source}: apiKeyEnv: environment variable ${c.apiKeyEnv} is not set`);
  return {
    baseURL: c.baseURL, baseModel: c.baseModel, baseModelPath: c.baseModelPath, apiKey, loader: c.loader,
    unloadOnClose: c.unloadOnClose, train: c.train, policy: c.policy,
  };
}
