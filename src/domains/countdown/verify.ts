/** Grading a Countdown response. Each step `a op b=c` takes two numbers from the pool (the given
 * numbers and earlier results not yet used), must be exact arithmetic with a positive integer
 * result (no zero or negative values, no remainder), and puts its result in the pool. Not every
 * number has to be used. The last step's result and the `#### n` answer must both be the target. */
import type { Verdict } from '../types.js';
import { applyOp, clip, parseIntegerAnswer, parseStep, showStep } from '../arithmetic/step.js';
import type { CountdownData } from './generate.js';

const wrong = (depth: number, reason: string): Verdict => ({ verdict: 'wrong', depth, reason });

/** Remove one copy of `x` from the pool; false when there is none. */
function take(pool: bigint[], x: bigint): boolean {
  const at = pool.indexOf(x);
  if (at < 0) return false;
  pool.splice(at, 1);
  return true;
}

export function verifyCountdown(data: CountdownData, steps: readonly string[], answer: string | null): Verdict {
  const depth = steps.length;
  const target = BigInt(data.target);
  if (answer === null) return wrong(depth, 'no final answer (#### line)');
  const given = parseIntegerAnswer(answer);
  if (given === null) return wrong(depth, `final answer '${clip(answer)}' is not an integer`);
  if (depth === 0) return wrong(depth, 'no steps before the final answer');
  const pool = data.numbers.map((n) => BigInt(n));
  let last = 0n;
  for (let k = 0; k < steps.length; k++) {
    const at = `step ${k + 1}`;
    const step = parseStep(steps[k]!);
    if (step === null) return wrong(depth, `${at}: '${clip(steps[k]!)}' is not of the form a+b=c`);
    const r = applyOp(step.a, step.op, step.b);
    if (!r.ok) return wrong(depth, `${at}: ${showStep(step)}: ${r.why}`);
    if (r.value !== step.c) return wrong(depth, `${at}: ${showStep(step)} is false (${step.a}${step.op}${step.b} is ${r.value})`);
    if (r.value <= 0n) return wrong(depth, `${at}: ${showStep(step)}: results must be positive`);
    if (!take(pool, step.a)) return wrong(depth, `${at}: ${step.a} is not available`);
    if (!take(pool, step.b)) return wrong(depth, `${at}: ${step.b} is not available${step.a === step.b ? ' twice' : ''}`);
    pool.push(step.c);
    last = step.c;
  }
  if (last !== target) return wrong(depth, `the last step gives ${last}, not the target ${target}`);
  if (given !== target) return wrong(depth, `final answer ${given} is not the target ${target}`);
  return { verdict: 'correct', depth };
}
