/** Arithmetic expressions: `+ - * /`, parentheses, unary minus, integers and decimals
 * (`1,234`, `.5`, `3.25`). Parsing is total and capped (length, nesting, digits), so any text is
 * handled in bounded time; evaluation is exact over rationals. */
import type { Op } from './step.js';
import { MAX_DIGITS } from './step.js';
import { add, div, mul, neg, rational, sub, type Rational } from './rational.js';

export type Ast =
  | { kind: 'num'; value: Rational }
  | { kind: 'neg'; arg: Ast }
  | { kind: 'bin'; op: Op; left: Ast; right: Ast };

/** Longer expressions are not parsed: nothing legitimate in a step or a problem is this long. */
export const MAX_EXPR_CHARS = 256;
const MAX_NESTING = 64;

const OP_CHARS: Readonly<Record<string, Op>> = { '+': '+', '-': '-', '−': '-', '*': '*', '×': '*', '/': '/', '÷': '/' };
const NUMBER_PATTERN = /^(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d*)?$/;

/** The value of a number literal such as `1,234`, `-2`, `.5` or `3.25`, or null. */
export function parseDecimal(text: string): Rational | null {
  let t = text.trim();
  let negative = false;
  if (t.startsWith('-') || t.startsWith('−')) {
    negative = true;
    t = t.slice(1);
  }
  if (t.length === 0 || t.length > MAX_DIGITS + 12 || !NUMBER_PATTERN.test(t) || !/\d/.test(t)) return null;
  const [intPart = '', fracPart = ''] = t.replace(/,/g, '').split('.');
  if (intPart.length + fracPart.length > MAX_DIGITS) return null;
  const value = rational(BigInt((intPart || '0') + fracPart), 10n ** BigInt(fracPart.length));
  return negative ? neg(value) : value;
}

/** Number of digits after the decimal point in a number literal. */
export function decimalPlaces(text: string): number {
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : text.length - dot - 1;
}

/** Parse a whole expression, or null when it is not one (or exceeds the caps). */
export function parseExpr(text: string): Ast | null {
  if (text.length > MAX_EXPR_CHARS) return null;
  let pos = 0;
  let nesting = 0;
  const skip = (): void => {
    while (pos < text.length && (text[pos] === ' ' || text[pos] === '\t')) pos++;
  };
  const peekOp = (): Op | null => {
    skip();
    return OP_CHARS[text[pos] ?? ''] ?? null;
  };

  const primary = (): Ast | null => {
    skip();
    const ch = text[pos];
    if (ch === '(') {
      if (++nesting > MAX_NESTING) return null;
      pos++;
      const inner = sum();
      skip();
      if (inner === null || text[pos] !== ')') return null;
      pos++;
      nesting--;
      return inner;
    }
    if (ch !== undefined && OP_CHARS[ch] === '-') {
      if (++nesting > MAX_NESTING) return null;
      pos++;
      const arg = primary();
      nesting--;
      return arg === null ? null : { kind: 'neg', arg };
    }
    const start = pos;
    while (pos < text.length && /[0-9.,]/.test(text[pos]!)) pos++;
    const value = pos > start ? parseDecimal(text.slice(start, pos)) : null;
    return value === null ? null : { kind: 'num', value };
  };

  const product = (): Ast | null => {
    let left = primary();
    for (let op = peekOp(); left !== null && (op === '*' || op === '/'); op = peekOp()) {
      pos++;
      const right = primary();
      if (right === null) return null;
      left = { kind: 'bin', op, left, right };
    }
    return left;
  };

  const sum = (): Ast | null => {
    let left = product();
    for (let op = peekOp(); left !== null && (op === '+' || op === '-'); op = peekOp()) {
      pos++;
      const right = product();
      if (right === null) return null;
      left = { kind: 'bin', op, left, right };
    }
    return left;
  };

  const ast = sum();
  skip();
  return ast !== null && pos === text.length ? ast : null;
}

/** Exact value, or null on division by zero. */
export function evalAst(ast: Ast): Rational | null {
  if (ast.kind === 'num') return ast.value;
  if (ast.kind === 'neg') {
    const v = evalAst(ast.arg);
    return v === null ? null : neg(v);
  }
  const l = evalAst(ast.left);
  const r = evalAst(ast.right);
  if (l === null || r === null) return null;
  switch (ast.op) {
    case '+':
      return add(l, r);
    case '-':
      return sub(l, r);
    case '*':
      return mul(l, r);
    case '/':
      return div(l, r);
  }
}

/** Evaluate text; null when it does not parse or divides by zero. */
export function evaluate(text: string): Rational | null {
  const ast = parseExpr(text);
  return ast === null ? null : evalAst(ast);
}
