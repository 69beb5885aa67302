import { describe, expect, it } from 'vitest';
import { DEFAULT_CHARS, TokenizerError, createCharTokenizer, tokenizerFromJson } from '../../src/engine/tokenizer.js';

describe('character tokenizer', () => {
  const tok = createCharTokenizer();

  it('covers printable ASCII and newline after PAD, BOS, EOS, UNK', () => {
    expect([tok.pad, tok.bos, tok.eos, tok.unk]).toEqual([0, 1, 2, 3]);
    expect(tok.vocabSize).toBe(4 + 96);
    expect(DEFAULT_CHARS).toContain('\n');
    expect(DEFAULT_CHARS).toContain('~');
    expect(DEFAULT_CHARS).not.toContain('\t');
  });

  it('round-trips domain text', () => {
    const text = 'Step 1: (unstack b a)\n#### 42 = 6*7; x != y? {ok} ~`\\|"\'';
    const ids = tok.encode(text);
    expect(ids).toHaveLength(text.length);
    expect(ids.every((id) => id >= 4 && id < tok.vocabSize)).toBe(true);
    expect(tok.decode(ids)).toBe(text);
  });

  it('maps unknown characters (tab, non-ASCII, astral) to UNK, one id per character', () => {
    const ids = tok.encode('a\té😀b');
    expect(ids).toEqual([tok.encode('a')[0], tok.unk, tok.unk, tok.unk, tok.encode('b')[0]]);
    expect(tok.decode(ids)).toBe('a\uFFFD\uFFFD\uFFFDb');
  });

  it('decodes PAD, BOS and EOS to nothing and rejects ids outside the vocabulary', () => {
    expect(tok.decode([tok.bos, ...tok.encode('hi'), tok.eos, tok.pad])).toBe('hi');
    expect(() => tok.decode([tok.vocabSize])).toThrow(TokenizerError);
  });

  it('saves to and loads from JSON (including a custom alphabet)', () => {
    const custom = createCharTokenizer('abc\n');
    const again = tokenizerFromJson(JSON.parse(JSON.stringify(custom.toJSON())));
    expect(again.vocabSize).toBe(8);
    expect(again.encode('cab\nz')).toEqual(custom.encode('cab\nz'));
    expect(tokenizerFromJson(tok.toJSON()).encode('Hello, World!\n')).toEqual(tok.encode('Hello, World!\n'));
  });

  it('rejects malformed tokenizer.json with a clear error', () => {
    const good = tok.toJSON();
    expect(() => tokenizerFromJson(null)).toThrow(/not a JSON object/);
    expect(() => tokenizerFromJson({ ...good, type: 'bpe' })).toThrow(/unsupported type/);
    expect(() => tokenizerFromJson({ ...good, vocab: ['<pad>', '<bos>', '<eos>', '<unk>', 'ab'] })).toThrow(/single character/);
    expect(() => tokenizerFromJson({ ...good, vocab: ['<bos>', '<pad>', '<eos>', '<unk>', 'a'] })).toThrow(/vocab\[0\]/);
    expect(() => tokenizerFromJson({ ...good, vocab: [...good.vocab, 'a'] })).toThrow(/repeated/);
  });
});

describe('words', () => {
  it('encodes known words as one token, longest first, and round-trips any text', async () => {
    const { createCharTokenizer, tokenizerFromJson } = await import('../../src/engine/tokenizer.js');
    const tok = createCharTokenizer(undefined, ['(unstack ', '(un', 'Sorry, the problem is too difficult. I cannot solve it.']);
    const ids = tok.encode('(unstack a b)\n');
    expect(ids).toHaveLength(1 + 5);
    expect(tok.piece(ids[0]!)).toBe('(unstack ');
    expect(tok.encode('(unx')).toHaveLength(2);
    for (const text of ['(unstack a b)\n(un', 'Sorry, the problem is too difficult. I cannot solve it.', 'é(unstack ']) {
      expect(tok.decode(tok.encode(text))).toBe(text.replace('é', '\uFFFD'));
    }
    const again = tokenizerFromJson(JSON.parse(JSON.stringify(tok)));
    expect(again.vocabSize).toBe(tok.vocabSize);
    expect(again.encode('(unstack a b)')).toEqual(tok.encode('(unstack a b)'));
  });
  it('rejects single-character or repeated words', async () => {
    const { createCharTokenizer } = await import('../../src/engine/tokenizer.js');
    expect(() => createCharTokenizer(undefined, ['a'])).toThrow(/longer than one character/);
    expect(() => createCharTokenizer(undefined, ['ab', 'ab'])).toThrow(/must not repeat/);
  });
});
