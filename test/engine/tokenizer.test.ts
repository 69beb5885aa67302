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
