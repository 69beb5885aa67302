/** One-operation step lines `a op b=c` and final-answer integers, shared by arithmetic and
 * countdown. All math is exact BigInt; every number is length-capped before conversion, so any
 * string is handled in bounded time. */

export type Op = '+' | '-' | '*' | '/';

export interface Step {
  a: bigint;
  op: Op;
  b: bigint;
  c: bigint;
}

/** Longest integer (in digits) converted to BigInt; longer ones are rejected as malformed. */
export const MAX_DIGITS = 30;

// Three numbers, one operator, '=' and spaces: anything longer is not a step.
const MAX_STEP_CHARS = 3 * (MAX_DIGITS + 1) + 40;

const OPS: Readonly<Record<string, Op>> = { '+': '+', '-': '-', '−': '-', '*': '*', '×': '*', '/': '/', '÷': '/' };

// Bounded quantifiers and a length cap keep matching linear.
const STEP_PATTERN = /^(-?\d{1,30})\s{0,3}([-+*/×÷−])\s{0,3}(-?\d{1,30})\s{0,3}=\s{0,3}(-?\d{1,30})$/;

/** Parse `a op b=c` (spaces allowed; `×`, `÷`, `−` accepted for `*`, `/`, `-`), or null. */
export function parseStep(line: string): Step | null {
  const text = line.trim();
  if (text.length > MAX_STEP_CHARS) return null;
  const m = STEP_PATTERN.exec(text);
  if (!m) return null;
  return { a: BigInt(m[1]!), op: OPS[m[2]!]!, b: BigInt(m[3]!), c: BigInt(m[4]!) };
}

export type OpResult = { ok: true; value: bigint } | { ok: false; why: string };

/** Exact integer operation: division must be by a non-zero divisor and leave no remainder. */
export function applyOp(a: bigint, op: Op, b: bigint): OpResult {
  switch (op) {
    case '+':
      return { ok: true, value: a + b };
    case '-':
      return { ok: true, value: a - b };
    case '*':
      return { ok: true, value: a * b };
    case '/':
      if (b === 0n) return { ok: false, why: 'division by zero' };
      if (a % b !== 0n) return { ok: false, why: 'division is not exact' };
      return { ok: true, value: a / b };
  }
}

export function formatStep(a: bigint | number, op: Op, b: bigint | number, c: bigint | number): string {
  return `${a}${op}${b}=${c}`;
}

/** Same text as `formatStep` for a parsed step (used in verdict reasons). */
export function showStep(step: Step): string {
  return formatStep(step.a, step.op, step.b, step.c);
}

const INTEGER_PATTERN = /^-?(?:\d{1,3}(?:,\d{3})+|\d+)$/;

/** A final answer that is an integer: optional `-`, digits, optionally grouped by commas in
 * threes (`1,234`). No `+`, decimals, exponents, units or words. Null when malformed. */
export function parseIntegerAnswer(text: string): bigint | null {
  const t = text.trim();
  if (t.length > MAX_DIGITS + 12 || !INTEGER_PATTERN.test(t)) return null;
  const digits = t.replace(/,/g, '');
  if (digits.replace('-', '').length > MAX_DIGITS) return null;
  return BigInt(digits);
}

/** A step line cut short for use inside a verdict reason. */
export function clip(text: string, max = 40): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
