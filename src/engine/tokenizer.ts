/** Character-level tokenizer: one token per character of a fixed alphabet (by default printable
 * ASCII and newline, which covers every domain's text), an UNK id for anything else, and the
 * special tokens PAD, BOS and EOS. Optionally a list of multi-character words (a domain's keywords,
 * the refusal sentence) each get one token too, matched longest first: the same text in fewer
 * positions trains and samples several times faster and leaves attention less to span. Any text
 * still encodes, character by character where no word matches. Saved as `tokenizer.json` next to
 * the weights. */

/** Printable ASCII (space … tilde) and newline. */
export const DEFAULT_CHARS: string = '\n' + Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');

export const SPECIAL_TOKENS = ['<pad>', '<bos>', '<eos>', '<unk>'] as const;
/** Text an UNK token decodes to. */
export const UNK_TEXT = '\uFFFD';

/** The on-disk form (`tokenizer.json`): `vocab[id]` is the token's text; ids 0–3 are the specials. */
export interface TokenizerJson {
  type: 'char';
  version: 1;
  specials: { pad: number; bos: number; eos: number; unk: number };
  vocab: string[];
  /** Multi-character words, ids following the alphabet (absent = none). */
  words?: string[];
}

export class TokenizerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenizerError';
  }
}

export class CharTokenizer {
  readonly pad = 0;
  readonly bos = 1;
  readonly eos = 2;
  readonly unk = 3;
  readonly vocabSize: number;
  /** The alphabet, in id order after the specials. */
  readonly chars: string;
  private readonly ascii = new Int32Array(128).fill(-1);
  private readonly other = new Map<string, number>();
  private readonly pieces: string[];
  /** Multi-character words in id order after the alphabet. */
  readonly words: readonly string[];
  /** Words by their first character, longest first. */
  private readonly wordsByFirst = new Map<string, { text: string; id: number }[]>();

  constructor(chars: string = DEFAULT_CHARS, words: readonly string[] = []) {
    const list = [...chars];
    if (list.length === 0) throw new TokenizerError('tokenizer alphabet is empty');
    if (new Set(list).size !== list.length) throw new TokenizerError('tokenizer alphabet has a repeated character');
    const multi = words.filter((w) => [...w].length > 1);
    if (multi.length !== words.length) throw new TokenizerError('tokenizer words must be longer than one character');
    if (new Set(multi).size !== multi.length) throw new TokenizerError('tokenizer words must not repeat');
    this.chars = chars;
    this.words = [...multi];
    this.pieces = ['', '', '', UNK_TEXT, ...list, ...multi];
    this.vocabSize = this.pieces.length;
    list.forEach((ch, i) => {
      const id = SPECIAL_TOKENS.length + i;
      const code = ch.codePointAt(0)!;
      if (code < 128) this.ascii[code] = id;
      else this.other.set(ch, id);
    });
    multi.forEach((w, i) => {
      const first = String.fromCodePoint(w.codePointAt(0)!);
      const bucket = this.wordsByFirst.get(first) ?? [];
      bucket.push({ text: w, id: SPECIAL_TOKENS.length + list.length + i });
      bucket.sort((a, b) => b.text.length - a.text.length);
      this.wordsByFirst.set(first, bucket);
    });
  }

  /** Token ids of `text` (no BOS/EOS added): the longest word starting at each position, else the
   * character. Characters outside the alphabet map to UNK. */
  encode(text: string): number[] {
    const ids: number[] = [];
    for (let i = 0; i < text.length; ) {
      const code = text.codePointAt(i)!;
      const ch = String.fromCodePoint(code);
      const word = this.wordsByFirst.get(ch)?.find((w) => text.startsWith(w.text, i));
      if (word) {
        ids.push(word.id);
        i += word.text.length;
        continue;
      }
      const id = code < 128 ? this.ascii[code]! : (this.other.get(ch) ?? -1);
      ids.push(id >= 0 ? id : this.unk);
      i += ch.length;
    }
    return ids;
  }

  /** Text of `ids`; PAD, BOS and EOS decode to nothing, UNK to U+FFFD. */
  decode(ids: ArrayLike<number>): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) s += this.piece(ids[i]!);
    return s;
  }

  /** Text of one token id. */
  piece(id: number): string {
    const p = this.pieces[id];
    if (p === undefined) throw new TokenizerError(`token id ${id} is outside the vocabulary (size ${this.vocabSize})`);
    return p;
  }

  toJSON(): TokenizerJson {
    return {
      type: 'char',
      version: 1,
      specials: { pad: this.pad, bos: this.bos, eos: this.eos, unk: this.unk },
      vocab: [...SPECIAL_TOKENS, ...this.chars],
      ...(this.words.length > 0 ? { words: [...this.words] } : {}),
    };
  }
}

export function createCharTokenizer(chars: string = DEFAULT_CHARS, words: readonly string[] = []): CharTokenizer {
  return new CharTokenizer(chars, words);
}

/** Rebuild a tokenizer from its JSON form, checking it is one this code wrote. */
export function tokenizerFromJson(json: unknown): CharTokenizer {
  if (typeof json !== 'object' || json === null) throw new TokenizerError('tokenizer.json is not a JSON object');
  const j = json as Partial<TokenizerJson>;
  if (j.type !== 'char') throw new TokenizerError(`tokenizer.json: unsupported type ${JSON.stringify(j.type)} (expected "char")`);
  if (j.version !== 1) throw new TokenizerError(`tokenizer.json: unsupported version ${JSON.stringify(j.version)} (expected 1)`);
  const s = j.specials;
  if (!s || s.pad !== 0 || s.bos !== 1 || s.eos !== 2 || s.unk !== 3) {
    throw new TokenizerError('tokenizer.json: specials must be {pad: 0, bos: 1, eos: 2, unk: 3}');
  }
  const vocab = j.vocab;
  if (!Array.isArray(vocab) || vocab.length <= SPECIAL_TOKENS.length) throw new TokenizerError('tokenizer.json: vocab must be a list longer than the special tokens');
  SPECIAL_TOKENS.forEach((name, i) => {
    if (vocab[i] !== name) throw new TokenizerError(`tokenizer.json: vocab[${i}] must be "${name}"`);
  });
  const chars = vocab.slice(SPECIAL_TOKENS.length);
  chars.forEach((c, i) => {
    if (typeof c !== 'string' || [...c].length !== 1) {
      throw new TokenizerError(`tokenizer.json: vocab[${i + SPECIAL_TOKENS.length}] must be a single character`);
    }
  });
  const words = j.words ?? [];
  if (!Array.isArray(words) || words.some((w) => typeof w !== 'string')) throw new TokenizerError('tokenizer.json: words must be a list of strings');
  return new CharTokenizer(chars.join(''), words);
}
