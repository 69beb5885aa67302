/** Adversarial response strings for verifier fuzzing: random text, mutations of a valid response,
 * truncations, huge numbers, unicode, deep nesting and very long inputs. Deterministic per seed. */
import { createRng, type Rng } from '../../src/util/random.js';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz ABCXYZ0123456789()+-*/=#:;.,\n\t\r-_[]{}\'"';
const UNICODE = ['é', 'ß', '中', '文', '\u0000', '\uffff', '\ud800', '\udfff', '😀', '\u202e', '\u200b', 'İ', 'ﬃ', '\u2028'];
const TOKENS = ['####', '(', ')', '((((', '))))', 'sorry', 'I don\'t know', 'NaN', 'Infinity', '-0', '1e309',
  '99999999999999999999999999999', '0x10', '1_000', ' ', '\n', '\n\n', '=', '+', '-', '*', '/', '÷', '×', 'not', 'and', 'so'];

function randomText(rng: Rng, maxLen: number): string {
  const len = rng.int(0, maxLen);
  let s = '';
  for (let i = 0; i < len; i++) {
    const r = rng.next();
    if (r < 0.8) s += ALPHABET[rng.int(0, ALPHABET.length - 1)];
    else if (r < 0.9) s += rng.pick(UNICODE);
    else s += rng.pick(TOKENS);
  }
  return s;
}

function mutate(rng: Rng, base: string): string {
  const chars = [...base];
  const edits = rng.int(1, 4);
  for (let e = 0; e < edits; e++) {
    const pos = rng.int(0, chars.length);
    const kind = rng.int(0, 5);
    if (kind === 0) chars.splice(pos, 1);
    else if (kind === 1) chars.splice(pos, 0, ALPHABET[rng.int(0, ALPHABET.length - 1)]!);
    else if (kind === 2) chars.splice(pos, 0, rng.pick(TOKENS));
    else if (kind === 3) chars.splice(pos, 0, rng.pick(UNICODE));
    else if (kind === 4) chars.length = Math.min(chars.length, pos); // truncation
    else chars.splice(pos, 0, ...chars.slice(rng.int(0, chars.length), rng.int(0, chars.length))); // duplication
  }
  return chars.join('');
}

/** `count` adversarial strings derived from `valid` (a correct response) and pure noise. */
export function* fuzzStrings(seed: number, count: number, valid: readonly string[]): Generator<string> {
  const rng = createRng(seed);
  const specials = [
    '',
    '\n'.repeat(10_000),
    '('.repeat(100_000),
    ')'.repeat(100_000),
    '('.repeat(50_000) + ')'.repeat(50_000),
    '#### ' + '9'.repeat(100_000),
    '#### -' + '9'.repeat(400),
    '#### 1e400',
    'a'.repeat(10 * 1024 * 1024),
    ('(unstack a b)\n').repeat(700_000),
    '\u0000'.repeat(1000),
    UNICODE.join('').repeat(1000),
  ];
  let n = 0;
  for (const s of specials) {
    if (n++ >= count) return;
    yield s;
  }
  while (n++ < count) {
    const r = rng.next();
    if (r < 0.45 && valid.length > 0) yield mutate(rng, rng.pick(valid));
    else if (r < 0.55 && valid.length > 0) {
      const v = rng.pick(valid);
      yield v.slice(0, rng.int(0, v.length));
    } else if (r < 0.6 && valid.length > 0) yield rng.pick(valid) + '\n' + randomText(rng, 40);
    else yield randomText(rng, 120);
  }
}
