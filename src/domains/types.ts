/** The domain contract: every verifiable problem family implements `Domain`. See DESIGN.md §3. */

export type VerdictKind = 'correct' | 'wrong' | 'idk';

/** The grade of one response. `depth` counts reasoning steps before the answer or the refusal. */
export interface Verdict {
  verdict: VerdictKind;
  depth: number;
  /** Why a response is wrong (absent for `correct` and `idk`). */
  reason?: string;
}

/** One problem instance. `data` holds what the domain needs to verify (JSON-serialisable). */
export interface Problem<D = unknown> {
  id: string;
  domain: string;
  /** The difficulty knob's value (blocks, proof depth, operations, …). */
  difficulty: number;
  /** Ends with a newline: the completion follows it directly (as in TRL's prompt/completion form). */
  prompt: string;
  /** Gold chain of thought, one reasoning step per entry (one line each in the completion). */
  goldSteps: string[];
  /** Gold final answer as written after `#### `, or null where the steps are the answer (plans). */
  goldAnswer: string | null;
  data: D;
}

/** What a parser extracts from a response. */
export interface ParsedResponse {
  /** Step lines, in order, before the final answer / refusal (blank lines dropped). */
  steps: string[];
  /** Text after `#### ` on the final-answer line, or null when there is none. */
  answer: string | null;
  /** True when the response contains a refusal (see `detectRefusal`). */
  refused: boolean;
  /** Number of step lines before the refusal line (only meaningful when `refused`). */
  refusalDepth: number;
  /** True when the response was cut because it exceeded `MAX_RESPONSE_CHARS`. */
  truncated: boolean;
}

export interface Domain<D = unknown> {
  name: string;
  /** One line for `--help` and docs. */
  description: string;
  /** The difficulty knob: its meaning and its accepted integer range. */
  difficulty: { name: string; min: number; max: number };
  /** Frequent multi-character pieces of this domain's prompts and responses (keywords, operators),
   * which a tokenizer may give one token each. Only a speed-up: any text still encodes. */
  words?: readonly string[];
  /** Deterministic for (seed, difficulty): same inputs, same problem. */
  generate(seed: number, difficulty: number): Problem<D>;
  /** The training target for a problem: gold steps (and final answer) in the response format. */
  goldCompletion(problem: Problem<D>): string;
  /** Grade any text a model may write. Never throws; bounded time for any input. */
  verify(problem: Problem<D>, response: string): Verdict;
}
