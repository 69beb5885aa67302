/** What the loop needs from a model: something that samples (a policy) and something that turns a
 * dataset into a new checkpoint (a trainer). The embedded engine and an OpenAI-compatible server
 * with an external trainer are both shaped this way. */

/** One supervised example in TRL's prompt/completion form. */
export interface Example {
  prompt: string;
  completion: string;
}

export interface SampleOptions {
  /** Responses per prompt. */
  n: number;
  /** 0 = greedy. */
  temperature: number;
  maxTokens: number;
  seed: number;
  /** Called with the number of prompts finished so far. */
  onProgress?: (done: number, total: number) => void;
}

export interface Policy {
  /** A label for reports (checkpoint path, model name). */
  readonly name: string;
  /** For each prompt, `n` responses (text only, stop sequences removed). */
  sample(prompts: readonly string[], options: SampleOptions): Promise<string[][]>;
  close?(): Promise<void>;
}

export interface TrainRequest {
  examples: readonly Example[];
  /** Checkpoint to start from; null = a freshly initialised model. */
  base: string | null;
  /** Directory the new checkpoint is written to (atomically). */
  outDir: string;
  seed: number;
  /** Passes over `examples` (fractions allowed). */
  epochs: number;
  batchSize: number;
  /** Peak learning rate. */
  lr: number;
  onProgress?: (step: number, totalSteps: number, loss: number) => void;
  /** One-line notices (e.g. a training continued from a snapshot). */
  log?: (line: string) => void;
}

export interface TrainResult {
  checkpoint: string;
  /** Mean training loss of the last epoch. */
  loss: number;
  steps: number;
}

export interface Trainer {
  train(request: TrainRequest): Promise<TrainResult>;
}

/** Opens a sampling policy for a checkpoint a trainer produced. */
export type PolicyFactory = (checkpoint: string) => Promise<Policy>;
