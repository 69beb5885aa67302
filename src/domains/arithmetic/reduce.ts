/** Grading a generated problem: the steps must evaluate the problem's own expression, one
 * operation per step, in any order a person could (any operation whose operands are already
 * numbers), with `+` and `*` operands in either order. A true step that is not an operation of the
 * expression (such as `40+3=43` to dress up a guess) is wrong, so the answer cannot be reached
 * without doing the work. */
import type { Verdict } from '../types.js';
import { parseExpr, type Ast } from './expr.js';
import { applyOp, clip, parseIntegerAnswer, parseStep, showStep, type Op, type Step } from './step.js';

type Operand = { node: number } | { value: bigint };

interface OpNode {
  op: Op;
  left: Operand;
  right: Operand;
  value: bigint;
}

// States are bit sets of evaluated operations.
const MAX_NODES = 30;

const valueOf = (nodes: readonly OpNode[], x: Operand): bigint => ('value' in x ? x.value : nodes[x.node]!.value);

interface Tree {
  nodes: OpNode[];
  value: bigint;
}

/** The expression's operations in post-order and its value; throws on text the generator cannot
 * produce (problem data is trusted, unlike responses). */
export function operations(expr: string): Tree {
  const nodes: OpNode[] = [];
  const walk = (ast: Ast): Operand => {
    if (ast.kind === 'num') {
      if (ast.value.d !== 1n) throw new Error(`arithmetic problem '${expr}' has a non-integer`);
      return { value: ast.value.n };
    }
    if (ast.kind === 'neg') throw new Error(`arithmetic problem '${expr}' has a unary minus`);
    const left = walk(ast.left);
    const right = walk(ast.right);
    const r = applyOp(valueOf(nodes, left), ast.op, valueOf(nodes, right));
    if (!r.ok) throw new Error(`arithmetic problem '${expr}': ${r.why}`);
    nodes.push({ op: ast.op, left, right, value: r.value });
    return { node: nodes.length - 1 };
  };
  const ast = parseExpr(expr);
  if (ast === null) throw new Error(`arithmetic problem has a malformed expression '${expr}'`);
  const root = walk(ast);
  if (nodes.length > MAX_NODES) throw new Error(`arithmetic problem '${expr}' has more than ${MAX_NODES} operations`);
  return { nodes, value: valueOf(nodes, root) };
}

// Verification repeats for the many samples of one problem: parse its expression once.
const cache = new Map<string, Tree>();

function cachedOperations(expr: string): Tree {
  let tree = cache.get(expr);
  if (tree === undefined) {
    tree = operations(expr);
    if (cache.size >= 4096) cache.clear();
    cache.set(expr, tree);
  }
  return tree;
}

const ready = (state: number, x: Operand): boolean => 'value' in x || (state & (1 << x.node)) !== 0;

function matches(nodes: readonly OpNode[], node: OpNode, step: Step): boolean {
  if (node.op !== step.op) return false;
  const l = valueOf(nodes, node.left);
  const r = valueOf(nodes, node.right);
  if (l === step.a && r === step.b) return true;
  return (node.op === '+' || node.op === '*') && l === step.b && r === step.a;
}

const wrong = (depth: number, reason: string): Verdict => ({ verdict: 'wrong', depth, reason });

export function verifyExpr(expr: string, steps: readonly string[], answer: string | null): Verdict {
  const depth = steps.length;
  const { nodes, value: gold } = cachedOperations(expr);
  if (answer === null) return wrong(depth, 'no final answer (#### line)');
  const given = parseIntegerAnswer(answer);
  if (given === null) return wrong(depth, `final answer '${clip(answer)}' is not an integer`);
  if (depth === 0 && nodes.length > 0) return wrong(depth, 'no steps before the final answer');

  // Every reachable set of evaluated operations: equal operations may be taken in either order.
  let states = new Set<number>([0]);
  for (let k = 0; k < steps.length; k++) {
    const line = steps[k]!;
    const at = `step ${k + 1}`;
    if (k >= nodes.length) return wrong(depth, `${at}: more steps than the ${nodes.length} operations of the expression`);
    const step = parseStep(line);
    if (step === null) return wrong(depth, `${at}: '${clip(line)}' is not of the form a+b=c`);
    const r = applyOp(step.a, step.op, step.b);
    if (!r.ok) return wrong(depth, `${at}: ${showStep(step)}: ${r.why}`);
    if (r.value !== step.c) return wrong(depth, `${at}: ${showStep(step)} is false (${step.a}${step.op}${step.b} is ${r.value})`);
    const next = new Set<number>();
    for (const state of states) {
      for (let i = 0; i < nodes.length; i++) {
        const node = nodes[i]!;
        if ((state & (1 << i)) !== 0 || !ready(state, node.left) || !ready(state, node.right)) continue;
        if (matches(nodes, node, step)) next.add(state | (1 << i));
      }
    }
    if (next.size === 0) return wrong(depth, `${at}: ${showStep(step)} is not an operation of the expression that is ready to compute`);
    states = next;
  }
  if (!states.has(2 ** nodes.length - 1)) {
    return wrong(depth, `the steps leave ${nodes.length - depth} operation(s) of the expression unevaluated`);
  }
  if (given !== gold) return wrong(depth, `final answer ${given} is not the value of the expression (${gold})`);
  return { verdict: 'correct', depth };
}
