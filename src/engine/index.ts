/** The embedded engine: a small character-level GPT trained and sampled on the CPU. */
export type { Backend, DecodeNet, DecodePlan, DecodeBuffers } from './backend.js';
export { JsBackend, jsBackend, createJsBackend, LN_EPS } from './backends/js.js';
export {
  type ModelConfig, type SpecialIds, REFERENCE_CONFIG, ConfigError, ContextLengthError,
  makeConfig, validateConfig, countParams, configToJson, configFromJson,
} from './config.js';
export {
  CharTokenizer, TokenizerError, type TokenizerJson, DEFAULT_CHARS, SPECIAL_TOKENS, UNK_TEXT,
  createCharTokenizer, tokenizerFromJson,
} from './tokenizer.js';
export {
  type Gpt, type Weights, type LayerWeights, type ParamTensor, type Batch, type Activations, type KvCache,
  type CreateGptOptions, INIT_STD,
  createGpt, allocGpt, initWeights, cloneGpt, paramLayout, zeroGrads, reserveTraining,
  type DecodeSession,
  forward, backward, forwardLogits, reserveKvCache, prefill, copyKvSlot, decodeStep, prepareDecode,
} from './model.js';
export {
  type SftExample, type SftOptions, type SftResult, type TrainProgress, type EncodedExample,
  trainSft, evaluateLoss, encodeExample, makeBatch, learningRateAt,
} from './train.js';
export { type SampleOptions, type Completion, type FinishReason, sample, logProb } from './sample.js';
export { SafetensorsError, type NamedTensor, type DecodedSafetensors, encodeSafetensors, decodeSafetensors } from './safetensors.js';
export {
  CheckpointError, type LoadedCheckpoint, WEIGHTS_FILE, CONFIG_FILE, TOKENIZER_FILE,
  checkpointFiles, saveCheckpoint, saveCheckpointAsync, loadCheckpoint,
} from './checkpoint.js';
