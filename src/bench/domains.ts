/** `npm run bench`: Blocksworld plan validation throughput (parse the plan text, simulate, check
 * the goal) on generated 3–8 block problems, half gold plans and half corrupted ones; then
 * `verify()` throughput for every registered domain whose generator works. One core, wall time. */
import { DOMAINS, problemSeed } from '../domains/index.js';
import type { Domain, Problem } from '../domains/types.js';
import { blocksworld, compiledTask, validatePlan, type BlocksworldData, type CompiledTask } from '../domains/blocksworld/index.js';
import { createRng, type Rng } from '../util/random.js';

interface Row {
  name: string;
  ops: number;
  seconds: number;
  note: string;
}

/** Runs `body(i)` over rounds of `count` cases until `minSeconds` have passed. */
function measure(count: number, minSeconds: number, body: (i: number) => number): { ops: number; seconds: number; sink: number } {
  let sink = 0;
  for (let i = 0; i < Math.min(count, 2000); i++) sink += body(i); // warm-up
  let ops = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < minSeconds) {
    for (let i = 0; i < count; i++) sink += body(i);
    ops += count;
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  }
  return { ops, seconds: elapsed, sink };
}

/** A corrupted copy of a plan: one of the usual ways a plan goes wrong. */
function corrupt(rng: Rng, steps: string[], names: string[]): string[] {
  const out = [...steps];
  const k = rng.int(0, out.length - 1);
  switch (rng.int(0, 4)) {
    case 0: out.splice(k, 1); break; // missing step
    case 1: if (k + 1 < out.length) [out[k], out[k + 1]] = [out[k + 1]!, out[k]!]; else out.pop(); break; // swapped steps
    case 2: out[k] = out[k]!.replace(/ [a-z]+\)/, ` ${rng.pick(names)})`); break; // wrong object
    case 3: out.splice(k, 0, `${k + 1}. ${out[k]}`); break; // numbered line
    default: out.length = k; // stops early
  }
  return out;
}

function benchValidation(rows: Row[]): void {
  const rng = createRng(2024);
  const tasks: CompiledTask[] = [];
  const texts: string[] = [];
  let valid = 0;
  for (let n = 3; n <= 8; n++) {
    for (let i = 0; i < 100; i++) {
      const problem: Problem<BlocksworldData> = blocksworld.generate(problemSeed(n, i), n);
      const task = compiledTask(problem.data);
      const good = rng.next() < 0.5;
      const steps = good ? problem.goldSteps : corrupt(rng, problem.goldSteps, problem.data.blocks);
      tasks.push(task);
      texts.push(steps.join('\n') + '\n');
      if (validatePlan(task, texts[texts.length - 1]!).valid) valid++;
    }
  }
  const chars = texts.reduce((s, t) => s + t.length, 0) / texts.length;
  const r = measure(texts.length, 2, (i) => (validatePlan(tasks[i]!, texts[i]!).valid ? 1 : 0));
  rows.push({
    name: 'blocksworld validatePlan (3–8 blocks)',
    ops: r.ops,
    seconds: r.seconds,
    note: `${texts.length} plans, ${valid} valid, ${chars.toFixed(0)} chars avg`,
  });
}

/** Responses for one problem: the gold completion, a refusal, and some damaged completions. */
function responses(rng: Rng, domain: Domain<any>, problem: Problem<any>): string[] {
  const gold = domain.goldCompletion(problem);
  const lines = gold.split('\n');
  const cut = lines.slice(0, rng.int(0, lines.length)).join('\n');
  return [gold, cut, `${cut}\nSorry, the problem is too difficult. I cannot solve it.`, gold.replace(/[a-z0-9]/, 'x'), gold + '\n' + gold];
}

function benchVerify(rows: Row[]): void {
  for (const domain of Object.values(DOMAINS)) {
    const { min, max } = domain.difficulty;
    const rng = createRng(7);
    const problems: Problem<any>[] = [];
    const cases: string[] = [];
    try {
      for (let i = 0; i < 200; i++) {
        const difficulty = min + (i % (max - min + 1));
        const problem = domain.generate(problemSeed(11, i), difficulty);
        for (const text of responses(rng, domain, problem)) {
          problems.push(problem);
          cases.push(text);
        }
      }
      for (let i = 0; i < cases.length; i++) domain.verify(problems[i]!, cases[i]!);
    } catch (err) {
      rows.push({ name: `verify ${domain.name}`, ops: 0, seconds: 0, note: `skipped: ${err instanceof Error ? err.message : String(err)}` });
      continue;
    }
    const r = measure(cases.length, 1, (i) => domain.verify(problems[i]!, cases[i]!).depth);
    rows.push({ name: `verify ${domain.name} (difficulty ${min}–${max})`, ops: r.ops, seconds: r.seconds, note: `${cases.length} responses` });
  }
}

function printTable(rows: Row[]): void {
  const header = ['benchmark', 'ops/s', 'µs/op', 'notes'];
  const body = rows.map((r) =>
    r.ops === 0
      ? [r.name, '—', '—', r.note]
      : [r.name, Math.round(r.ops / r.seconds).toLocaleString('en-US'), ((r.seconds / r.ops) * 1e6).toFixed(2), r.note],
  );
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((row) => row[c]!.length)));
  const line = (cells: string[]) => cells.map((s, c) => (c === 1 || c === 2 ? s.padStart(widths[c]!) : s.padEnd(widths[c]!))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of body) console.log(line(row));
}

const rows: Row[] = [];
benchValidation(rows);
benchVerify(rows);
printTable(rows);
