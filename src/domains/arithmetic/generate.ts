/** Generated arithmetic problems: a random expression with `difficulty` binary operations whose
 * every intermediate value is a positive integer (subtraction never goes below 1, division is
 * exact, one factor of each product is at most 12), printed with the fewest parentheses that keep
 * its tree, and solved one operation per step. */
import { createRng, type Rng } from '../../util/random.js';
import type { Problem } from '../types.js';
import { formatStep, type Op } from './step.js';

export const MIN_OPS = 1;
export const MAX_OPS = 12;

export interface ExprData {
  kind: 'expr';
  /** The expression as shown in the prompt; the verifier re-parses it. */
  expr: string;
}

type Node = { kind: 'leaf'; value: number } | { kind: 'bin'; op: Op; left: Node; right: Node; value: number };

// Digits grow with the number of operations.
const leafMax = (ops: number): number => (ops <= 2 ? 20 : ops <= 4 ? 50 : ops <= 7 ? 99 : 999);
const valueCap = (ops: number): number => (ops <= 3 ? 999 : ops <= 7 ? 9999 : 99999);
// A times-table factor: keeps each step within reach of a small model.
const MAX_FACTOR = 12;

const leaf = (value: number): Node => ({ kind: 'leaf', value });

function combine(rng: Rng, op: Op, left: Node, right: Node, cap: number): Node | null {
  const l = left.value;
  const r = right.value;
  const bin = (a: Node, b: Node, value: number): Node | null =>
    value >= 1 && value <= cap ? { kind: 'bin', op, left: a, right: b, value } : null;
  switch (op) {
    case '+':
      return bin(left, right, l + r);
    case '-':
      if (l === r) return null;
      return l > r ? bin(left, right, l - r) : bin(right, left, r - l);
    case '*': {
      if (Math.min(l, r) >= 2 && Math.min(l, r) <= MAX_FACTOR) return bin(left, right, l * r);
      // Operands made to measure keep products and quotients as frequent as sums.
      const factor = leaf(rng.int(2, MAX_FACTOR));
      if (right.kind === 'leaf') return bin(left, factor, l * factor.value);
      if (left.kind === 'leaf') return bin(factor, right, factor.value * r);
      return null;
    }
    case '/': {
      if (r >= 2 && r <= MAX_FACTOR && l % r === 0) return bin(left, right, l / r);
      if (right.kind === 'leaf') {
        const divisors = [];
        for (let k = 2; k <= MAX_FACTOR; k++) if (l % k === 0 && k < l) divisors.push(k);
        if (divisors.length > 0) {
          const k = rng.pick(divisors);
          return bin(left, leaf(k), l / k);
        }
      }
      if (left.kind === 'leaf' && r >= 2 && r <= MAX_FACTOR) {
        const q = rng.int(2, Math.max(2, Math.min(MAX_FACTOR, Math.floor(cap / r))));
        return bin(leaf(r * q), right, q);
      }
      return null;
    }
  }
}

function build(rng: Rng, ops: number, totalOps: number): Node | null {
  if (ops === 0) return leaf(rng.int(1, leafMax(totalOps)));
  const leftOps = rng.int(0, ops - 1);
  const left = build(rng, leftOps, totalOps);
  const right = build(rng, ops - 1 - leftOps, totalOps);
  if (left === null || right === null) return null;
  for (const op of rng.shuffle<Op>(['+', '-', '*', '/'])) {
    const node = combine(rng, op, left, right, valueCap(totalOps));
    if (node !== null) return node;
  }
  return null;
}

const PRECEDENCE: Readonly<Record<Op, number>> = { '+': 1, '-': 1, '*': 2, '/': 2 };

/** Left-associative printing: a right operand of equal precedence keeps its parentheses. */
function print(node: Node): string {
  if (node.kind === 'leaf') return `${node.value}`;
  const p = PRECEDENCE[node.op];
  const side = (child: Node, strict: boolean): string => {
    if (child.kind === 'leaf') return print(child);
    const q = PRECEDENCE[child.op];
    return q < p || (strict && q === p) ? `(${print(child)})` : print(child);
  };
  return `${side(node.left, false)}${node.op}${side(node.right, true)}`;
}

/** Post-order, left operand first: the order a person evaluates a written expression in. */
function steps(node: Node, out: string[]): string[] {
  if (node.kind === 'bin') {
    steps(node.left, out);
    steps(node.right, out);
    out.push(formatStep(node.left.value, node.op, node.right.value, node.value));
  }
  return out;
}

export function generateExpr(seed: number, difficulty: number): Problem<ExprData> {
  if (!Number.isInteger(difficulty) || difficulty < MIN_OPS || difficulty > MAX_OPS) {
    throw new RangeError(`arithmetic difficulty must be an integer from ${MIN_OPS} to ${MAX_OPS}, got ${difficulty}`);
  }
  const rng = createRng(seed);
  let tree: Node | null = null;
  while (tree === null) tree = build(rng, difficulty, difficulty);
  const expr = print(tree);
  return {
    id: `arithmetic-${difficulty}-${seed >>> 0}`,
    domain: 'arithmetic',
    difficulty,
    prompt: `Evaluate ${expr}\n`,
    goldSteps: steps(tree, []),
    goldAnswer: `${tree.value}`,
    data: { kind: 'expr', expr },
  };
}
