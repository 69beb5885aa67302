/** Model hyper-parameters and their `config.json` form. The JSON uses the key names of GPT-2
 * configs (n_embd, n_layer, …) because the architecture is GPT-2's, so other tools can read the
 * checkpoint without a custom loader. */

export interface ModelConfig {
  /** Number of token ids (the tokenizer's vocabulary size). */
  vocabSize: number;
  /** Maximum sequence length (number of learned positions). */
  contextLength: number;
  /** Residual stream width C. */
  dModel: number;
  nLayer: number;
  /** Attention heads; must divide dModel. */
  nHead: number;
  /** Hidden width of the MLP (GPT-2: 4·dModel). */
  dMlp: number;
  /** Output head shares the token embedding (GPT-2) instead of its own V×C matrix. */
  tiedEmbeddings: boolean;
}

/** The reference model: about 0.8 M parameters, trains on a CPU in minutes. */
export const REFERENCE_CONFIG: Readonly<ModelConfig> = Object.freeze({
  vocabSize: 100,
  contextLength: 64,
  dModel: 128,
  nLayer: 4,
  nHead: 4,
  dMlp: 512,
  tiedEmbeddings: true,
});

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** A full config from a partial one: missing fields come from REFERENCE_CONFIG, except dMlp which
 * defaults to 4·dModel. Throws ConfigError when a value is unusable. */
export function makeConfig(partial: Partial<ModelConfig> = {}): ModelConfig {
  const given = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) as Partial<ModelConfig>;
  const dModel = given.dModel ?? REFERENCE_CONFIG.dModel;
  const config: ModelConfig = { ...REFERENCE_CONFIG, dMlp: 4 * dModel, ...given };
  validateConfig(config);
  return config;
}

export function validateConfig(c: ModelConfig): void {
  const positive = ['vocabSize', 'contextLength', 'dModel', 'nLayer', 'nHead', 'dMlp'] as const;
  for (const key of positive) {
    const v = c[key];
    if (!Number.isSafeInteger(v) || v < 1) throw new ConfigError(`model config: ${key} must be a positive integer (got ${JSON.stringify(v)})`);
  }
  if (c.dModel % c.nHead !== 0) throw new ConfigError(`model config: dModel ${c.dModel} is not divisible by nHead ${c.nHead}`);
  if (typeof c.tiedEmbeddings !== 'boolean') throw new ConfigError('model config: tiedEmbeddings must be a boolean');
}

/** Total number of parameters. */
export function countParams(c: ModelConfig): number {
  const C = c.dModel;
  const perLayer = 2 * C + C * 3 * C + 3 * C + C * C + C + 2 * C + C * c.dMlp + c.dMlp + c.dMlp * C + C;
  return c.vocabSize * C + c.contextLength * C + c.nLayer * perLayer + 2 * C + (c.tiedEmbeddings ? 0 : c.vocabSize * C);
}

/** Token ids the config.json records (the tokenizer owns them; stored for other tools). */
export interface SpecialIds {
  pad: number;
  bos: number;
  eos: number;
}

/** The `config.json` object (GPT-2 key names; `ceiling_format` marks our layout). */
export function configToJson(c: ModelConfig, ids?: SpecialIds): Record<string, unknown> {
  return {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    ceiling_format: 1,
    vocab_size: c.vocabSize,
    n_positions: c.contextLength,
    n_ctx: c.contextLength,
    n_embd: c.dModel,
    n_layer: c.nLayer,
    n_head: c.nHead,
    n_inner: c.dMlp,
    activation_function: 'gelu_new',
    layer_norm_epsilon: 1e-5,
    tie_word_embeddings: c.tiedEmbeddings,
    torch_dtype: 'float32',
    ...(ids ? { pad_token_id: ids.pad, bos_token_id: ids.bos, eos_token_id: ids.eos } : {}),
  };
}

/** Parse a `config.json` object; ConfigError names the missing or bad key. */
export function configFromJson(json: unknown): ModelConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ConfigError('config.json is not a JSON object');
  const j = json as Record<string, unknown>;
  const int = (key: string): number => {
    const v = j[key];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) {
      throw new ConfigError(`config.json: '${key}' must be a positive integer (got ${JSON.stringify(v)})`);
    }
    return v;
  };
  if (j.model_type !== undefined && j.model_type !== 'gpt2') throw new ConfigError(`config.json: model_type ${JSON.stringify(j.model_type)} is not supported (expected "gpt2")`);
  if (j.activation_function !== undefined && j.activation_function !== 'gelu_new') {
    throw new ConfigError(`config.json: activation_function ${JSON.stringify(j.activation_function)} is not supported (expected "gelu_new")`);
  }
  const nEmbd = int('n_embd');
  const tied = j.tie_word_embeddings ?? true;
  if (typeof tied !== 'boolean') throw new ConfigError('config.json: tie_word_embeddings must be a boolean');
  const config: ModelConfig = {
    vocabSize: int('vocab_size'),
    contextLength: int('n_positions'),
    dModel: nEmbd,
    nLayer: int('n_layer'),
    nHead: int('n_head'),
    dMlp: j.n_inner === undefined || j.n_inner === null ? 4 * nEmbd : int('n_inner'),
    tiedEmbeddings: tied,
  };
  try {
    validateConfig(config);
  } catch (err) {
    throw new ConfigError(`config.json: ${(err as Error).message.replace(/^model config: /, '')}`);
  }
  return config;
}

/** Thrown when a prompt or a training example does not fit the context window. */
export class ContextLengthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContextLengthError';
  }
}
