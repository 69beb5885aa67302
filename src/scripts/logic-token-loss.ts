/** Where a logic model's training loss sits: the per-token loss of a checkpoint (or of a training
 * snapshot, mid-training) on a run's first training problems, by what each gold token does.
 * Run: npm run logic-token-loss -- RUN_DIR MODEL [--problems 300]
 *   MODEL: a checkpoint directory, or a `*.snapshot.safetensors` file of a training in progress.
 * Kinds: `rule text` is a rule restated after its label (a copy of its prompt line); the labels
 * `rN: ` pick a rule: `tried rule` the rule the search tries next (`> rN: head <= …`), `checked rule`
 * the rule whose condition a note checks (`> rN: lit`), `step rule` the rule a step applies or
 * blocks; `line start` is the first token of a line that does not open with a label (`>`, `?`);
 * `other` the literals of notes and blocked steps. */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { getDomain } from '../domains/index.js';
import type { LogicData } from '../domains/logic/index.js';
import { loadCheckpoint } from '../engine/checkpoint.js';
import { createGpt, forwardLogits, type Gpt } from '../engine/model.js';
import { decodeSafetensors } from '../engine/safetensors.js';
import { logProb } from '../engine/sample.js';
import type { CharTokenizer } from '../engine/tokenizer.js';
import { validateConfig } from '../loop/config.js';
import { embeddedModelSpec } from '../policies/embedded.js';
import { RunStore } from '../store/run-store.js';

const { values: a, positionals } = parseArgs({ allowPositionals: true, options: { problems: { type: 'string', default: '300' } } });
const [runDir, modelPath] = positionals;
if (!runDir || !modelPath) throw new Error('usage: logic-token-loss RUN_DIR MODEL [--problems N]');
const config = validateConfig(JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')), join(runDir, 'config.json'));
if (config.domain !== 'logic') throw new Error(`${runDir} is a ${config.domain} run; this script reads logic runs`);

function openModel(): { model: Gpt; tokenizer: CharTokenizer; step: string } {
  if (statSync(modelPath!).isDirectory()) return { ...loadCheckpoint(modelPath!), step: 'final' };
  const { tokenizer, modelConfig } = embeddedModelSpec(config);
  const model = createGpt(modelConfig);
  const { tensors, metadata } = decodeSafetensors(readFileSync(modelPath!));
  const params = tensors.get('params')?.data;
  if (!params || params.length !== model.params.length) throw new Error(`${modelPath}: not a snapshot of this run's model`);
  model.params.set(params);
  return { model, tokenizer, step: metadata.step ?? '?' };
}

/** The gold completion's tokens, each with its kind (see the file comment). A tried rule's label
 * is split by how many of the prompt's rules share its head: with one, naming it is a pure lookup. */
function kinds(tokenizer: CharTokenizer, theory: LogicData, completion: string): { id: number; kind: string }[] {
  const out: { id: number; kind: string }[] = [];
  const lines = completion.split('\n');
  lines.forEach((line, i) => {
    const ids = tokenizer.encode(i < lines.length - 1 ? `${line}\n` : line);
    const restates = line.includes(' <= ');
    let labelled = false;
    ids.forEach((id, j) => {
      const text = tokenizer.decode([id]);
      let kind: string;
      if (line.startsWith('####')) kind = 'answer';
      else if (!labelled && /^r\d+: $/.test(text)) {
        const head = theory.rules[Number(text.slice(1, -2)) - 1]?.head;
        const shared = theory.rules.filter((r) => r.head === head).length > 1 ? 'several rules' : 'one rule';
        kind = !line.startsWith('>') ? 'step rule' : restates ? `tried rule (${shared} with its head)` : 'checked rule';
        labelled = true;
      } else if (j === 0) kind = 'line start';
      else if (text === '\n') kind = 'newline';
      else if (restates && labelled) kind = 'rule text';
      else kind = 'other';
      out.push({ id, kind });
    });
  });
  return out;
}

const { model, tokenizer, step } = openModel();
const store = RunStore.open(join(runDir, 'run.db'));
const problems = store.problems('train').slice(0, Number(a.problems));
store.close();
const domain = getDomain('logic');
const sums = new Map<string, { tokens: number; loss: number }>();
for (const problem of problems) {
  const prompt = tokenizer.encode(problem.prompt);
  const completion = [...kinds(tokenizer, problem.data as LogicData, domain.goldCompletion(problem)), { id: tokenizer.eos, kind: 'end' }];
  const input = [tokenizer.bos, ...prompt, ...completion.slice(0, -1).map((t) => t.id)];
  if (input.length > model.config.contextLength) continue;
  const V = model.config.vocabSize;
  const logits = forwardLogits(model, Int32Array.from(input), 1, input.length);
  completion.forEach(({ id, kind }, k) => {
    const t = prompt.length + k;
    const s = sums.get(kind) ?? { tokens: 0, loss: 0 };
    s.tokens++;
    s.loss -= logProb(logits.subarray(t * V, (t + 1) * V), id);
    sums.set(kind, s);
  });
}
const tokens = [...sums.values()].reduce((x, s) => x + s.tokens, 0);
const loss = [...sums.values()].reduce((x, s) => x + s.loss, 0);
console.log(`step ${step}: ${problems.length} problems, ${tokens} completion tokens, mean loss ${(loss / tokens).toFixed(4)}`);
console.log('| kind | tokens | mean loss | share of loss |\n|---|---|---|---|');
for (const [kind, s] of [...sums].sort((x, y) => y[1].loss - x[1].loss)) {
  console.log(`| ${kind} | ${(100 * s.tokens / tokens).toFixed(1)}% | ${(s.loss / s.tokens).toFixed(4)} | ${(100 * s.loss / loss).toFixed(1)}% |`);
}
