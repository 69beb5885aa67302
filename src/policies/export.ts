/** Training sets in TRL's dataset formats: one JSON object per line, either
 * `{"prompt", "completion"}` (prompt-completion) or
 * `{"messages": [{"role": "user", …}, {"role": "assistant", …}]}` (conversational). Both files are
 * written atomically; the reader accepts either format, line by line. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import type { Example } from './types.js';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export function toMessages(e: Example): { messages: ChatMessage[] } {
  return { messages: [{ role: 'user', content: e.prompt }, { role: 'assistant', content: e.completion }] };
}

export function toJsonl(rows: readonly unknown[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length > 0 ? '\n' : '');
}

export interface ExportedFiles {
  /** `{"prompt","completion"}` lines. */
  promptCompletion: string;
  /** `{"messages":[…]}` lines. */
  messages: string;
}

/** Writes `<name>.jsonl` and `<name>.messages.jsonl` into `dir`. */
export async function exportTrainingSet(dir: string, name: string, examples: readonly Example[]): Promise<ExportedFiles> {
  mkdirSync(dir, { recursive: true });
  const files = { promptCompletion: join(dir, `${name}.jsonl`), messages: join(dir, `${name}.messages.jsonl`) };
  await writeFileAtomic(files.promptCompletion, toJsonl(examples.map((e) => ({ prompt: e.prompt, completion: e.completion }))));
  await writeFileAtomic(files.messages, toJsonl(examples.map(toMessages)));
  return files;
}

/** A JSONL line that is not a training example; `line` is 1-based. */
export class DatasetError extends Error {
  constructor(readonly file: string, readonly line: number, reason: string) {
    super(`${file}:${line}: ${reason}`);
    this.name = 'DatasetError';
  }
}

function textContent(content: unknown): string | null {
  if (typeof content === 'string') return content;
  if (Array.isArray(content) && content.every((p) => typeof p === 'object' && p !== null && typeof (p as { text?: unknown }).text === 'string')) {
    return content.map((p) => (p as { text: string }).text).join('');
  }
  return null;
}

/** One example from a parsed line: prompt/completion, or messages whose last turn is the
 * assistant's completion and whose last user turn before it is the prompt. */
export function exampleFromRow(row: unknown): Example | string {
  if (typeof row !== 'object' || row === null || Array.isArray(row)) return 'not a JSON object';
  const r = row as Record<string, unknown>;
  if ('prompt' in r || 'completion' in r) {
    if (typeof r.prompt !== 'string') return "'prompt' must be a string";
    if (typeof r.completion !== 'string') return "'completion' must be a string";
    return { prompt: r.prompt, completion: r.completion };
  }
  if ('messages' in r) {
    const m = r.messages;
    if (!Array.isArray(m) || m.length < 2) return "'messages' must be an array with a user and an assistant turn";
    const turns: { role: string; text: string }[] = [];
    for (const [i, t] of m.entries()) {
      if (typeof t !== 'object' || t === null || typeof (t as { role?: unknown }).role !== 'string') return `messages[${i}] must have a string 'role'`;
      const text = textContent((t as { content?: unknown }).content);
      if (text === null) return `messages[${i}].content must be a string`;
      turns.push({ role: (t as { role: string }).role, text });
    }
    const last = turns[turns.length - 1]!;
    if (last.role !== 'assistant') return "the last message must have role 'assistant'";
    const user = turns.slice(0, -1).reverse().find((t) => t.role === 'user');
    if (!user) return "no 'user' message before the assistant's";
    return { prompt: user.text, completion: last.text };
  }
  return "expected {\"prompt\", \"completion\"} or {\"messages\": [...]}";
}

/** Parses a TRL JSONL file's text; blank lines are skipped. Throws DatasetError naming the line. */
export function parseTrlJsonl(text: string, file: string): Example[] {
  const out: Example[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') return;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch (err) {
      throw new DatasetError(file, i + 1, `not valid JSON (${(err as Error).message})`);
    }
    const ex = exampleFromRow(row);
    if (typeof ex === 'string') throw new DatasetError(file, i + 1, ex);
    out.push(ex);
  });
  return out;
}
