import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointError, loadCheckpoint, saveCheckpoint, saveCheckpointAsync } from '../../src/engine/checkpoint.js';
import { makeConfig } from '../../src/engine/config.js';
import { createGpt } from '../../src/engine/model.js';
import { SafetensorsError, decodeSafetensors, encodeSafetensors } from '../../src/engine/safetensors.js';
import { sample } from '../../src/engine/sample.js';
import { createCharTokenizer } from '../../src/engine/tokenizer.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ceiling-ckpt-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const tok = createCharTokenizer();
const config = makeConfig({ vocabSize: tok.vocabSize, contextLength: 12, dModel: 16, nLayer: 2, nHead: 2, dMlp: 24 });

/** A minimal safetensors reader written from the public format description, independent of
 * src/engine/safetensors.ts: u64 LE header size, JSON header, little-endian data after it. */
function independentRead(file: string): { header: Record<string, any>; tensor: (name: string) => number[] } {
  const buf = fs.readFileSync(file);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const lo = dv.getUint32(0, true);
  const hi = dv.getUint32(4, true);
  expect(hi).toBe(0);
  expect(8 + lo).toBeLessThanOrEqual(buf.length);
  const header = JSON.parse(buf.subarray(8, 8 + lo).toString('utf8')) as Record<string, any>;
  const base = 8 + lo;
  const spans: [number, number][] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    expect(info.dtype).toBe('F32');
    const [b, e] = info.data_offsets as [number, number];
    expect(e - b).toBe(4 * (info.shape as number[]).reduce((x: number, y: number) => x * y, 1));
    expect(base + e).toBeLessThanOrEqual(buf.length);
    spans.push([b, e]);
  }
  spans.sort((x, y) => x[0] - y[0]);
  for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBe(spans[i - 1]![1]); // no overlap, no hole
  expect(base + spans[spans.length - 1]![1]).toBe(buf.length);
  return {
    header,
    tensor: (name) => {
      const [b, e] = header[name].data_offsets as [number, number];
      const out: number[] = [];
      for (let p = base + b; p < base + e; p += 4) out.push(dv.getFloat32(p, true));
      return out;
    },
  };
}

describe('safetensors', () => {
  it('round-trips tensors and metadata, with an 8-byte aligned data section', () => {
    const tensors = [
      { name: 'a', shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 0, -0, 1e-30]) },
      { name: 'scalar', shape: [], data: Float32Array.from([Math.PI]) },
      { name: 'empty', shape: [0, 4], data: new Float32Array(0) },
    ];
    const bytes = encodeSafetensors(tensors, { k: 'v' });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const back = decodeSafetensors(bytes);
    expect(back.metadata).toEqual({ k: 'v' });
    expect([...back.tensors.keys()]).toEqual(['a', 'scalar', 'empty']);
    for (const t of tensors) {
      expect(back.tensors.get(t.name)!.shape).toEqual(t.shape);
      expect(Array.from(back.tensors.get(t.name)!.data)).toEqual(Array.from(t.data));
    }
  });

  const file = (header: object, data: number[] = []): Uint8Array => {
    const json = new TextEncoder().encode(JSON.stringify(header));
    const out = new Uint8Array(8 + json.length + data.length * 4);
    const dv = new DataView(out.buffer);
    dv.setBigUint64(0, BigInt(json.length), true);
    out.set(json, 8);
    data.forEach((v, i) => dv.setFloat32(8 + json.length + 4 * i, v, true));
    return out;
  };

  it('rejects malformed files with one-line errors', () => {
    const cases: [Uint8Array, RegExp][] = [
      [new Uint8Array(5), /too short/],
      [file({ a: { dtype: 'F16', shape: [1], data_offsets: [0, 2] } }, [0]), /dtype "F16" is not supported/],
      [file({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, [1]), /out of range/],
      [file({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, [1]), /do not match shape/],
      [file({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, [1]), /overlaps/],
      [file({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, [1, 2]), /gap/],
      [file({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, [1, 2]), /trailing/],
      [file({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, [1]), /shape/],
      [file({ __metadata__: { x: 1 } }), /not a string/],
      [file([1, 2] as unknown as object), /not a JSON object/],
    ];
    for (const [bytes, re] of cases) {
      expect(() => decodeSafetensors(bytes)).toThrow(SafetensorsError);
      expect(() => decodeSafetensors(bytes)).toThrow(re);
    }
  });
});

describe('checkpoints', () => {
  const model = createGpt(config, { seed: 42 });
  const dir = path.join(tmp, 'ckpt');
  saveCheckpoint(dir, model, tok, { metadata: { step: '17' } });

  it('writes model.safetensors, config.json and tokenizer.json, and nothing else', () => {
    expect(fs.readdirSync(dir).sort()).toEqual(['config.json', 'model.safetensors', 'tokenizer.json']);
    expect(fs.readdirSync(tmp)).toEqual(['ckpt']); // no temporary left behind
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    expect(cfg).toMatchObject({ model_type: 'gpt2', vocab_size: 100, n_positions: 12, n_embd: 16, n_layer: 2, n_head: 2, n_inner: 24 });
  });

  it('is readable by an independent safetensors reader with GPT-2 names, shapes and values', () => {
    const { header, tensor } = independentRead(path.join(dir, 'model.safetensors'));
    expect(header.__metadata__).toMatchObject({ format: 'pt', step: '17' });
    const names = Object.keys(header).filter((k) => k !== '__metadata__');
    expect(names).toHaveLength(model.tensors.length);
    expect(header['wte.weight'].shape).toEqual([100, 16]);
    expect(header['h.1.attn.c_attn.weight'].shape).toEqual([16, 48]);
    expect(header['h.0.mlp.c_proj.weight'].shape).toEqual([24, 16]);
    for (const t of model.tensors) {
      expect(header[t.name].shape).toEqual(t.shape);
      expect(tensor(t.name)).toEqual(Array.from(model.params.subarray(t.offset, t.offset + t.size)));
    }
  });

  it('loads back into an identical model that samples identically', () => {
    const loaded = loadCheckpoint(dir);
    expect(loaded.model.config).toEqual(model.config);
    expect(Buffer.from(loaded.model.params.buffer).equals(Buffer.from(model.params.buffer))).toBe(true);
    expect(loaded.metadata.step).toBe('17');
    expect(loaded.tokenizer.toJSON()).toEqual(tok.toJSON());
    const opts = { n: 2, maxTokens: 6, seed: 3 };
    expect(sample(loaded.model, loaded.tokenizer, ['ab'], opts)).toEqual(sample(model, tok, ['ab'], opts));
  });

  it('replaces an existing checkpoint atomically (async form too)', async () => {
    const other = createGpt(config, { seed: 43 });
    const d = path.join(tmp, 'replace');
    saveCheckpoint(d, model, tok);
    await saveCheckpointAsync(d, other, tok);
    expect(Buffer.from(loadCheckpoint(d).model.params.buffer).equals(Buffer.from(other.params.buffer))).toBe(true);
    expect(fs.readdirSync(tmp).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('separate output head round-trips with lm_head.weight', () => {
    const untied = createGpt({ ...config, tiedEmbeddings: false }, { seed: 5 });
    const d = path.join(tmp, 'untied');
    saveCheckpoint(d, untied, tok);
    const { header } = independentRead(path.join(d, 'model.safetensors'));
    expect(header['lm_head.weight'].shape).toEqual([100, 16]);
    const loaded = loadCheckpoint(d);
    expect(loaded.model.config.tiedEmbeddings).toBe(false);
    expect(Buffer.from(loaded.model.params.buffer).equals(Buffer.from(untied.params.buffer))).toBe(true);
  });

  /** A copy of the good checkpoint with one file changed. */
  function corrupt(name: string, change: (dir: string) => void): string {
    const d = path.join(tmp, name);
    fs.cpSync(dir, d, { recursive: true });
    change(d);
    return d;
  }
  const weights = (d: string): string => path.join(d, 'model.safetensors');
  /** Rewrite model.safetensors from its tensors after editing the list. */
  const rewrite = (d: string, edit: (t: { name: string; shape: number[]; data: Float32Array }[]) => void): void => {
    const decoded = decodeSafetensors(fs.readFileSync(weights(d)));
    const list = [...decoded.tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data }));
    edit(list);
    fs.writeFileSync(weights(d), encodeSafetensors(list));
  };

  const cases: [string, (d: string) => void, RegExp][] = [
    ['truncated', (d) => fs.truncateSync(weights(d), fs.statSync(weights(d)).size - 10), /model\.safetensors: .*(out of range|truncated)/],
    ['bad-json', (d) => {
      const b = fs.readFileSync(weights(d));
      b[8] = 0x7b; b[9] = 0x7b; // "{{"
      fs.writeFileSync(weights(d), b);
    }, /model\.safetensors: header is not valid UTF-8 JSON/],
    ['header-too-long', (d) => {
      const b = fs.readFileSync(weights(d));
      new DataView(b.buffer, b.byteOffset).setBigUint64(0, BigInt(b.length * 2), true);
      fs.writeFileSync(weights(d), b);
    }, /header length \d+ exceeds the file size/],
    ['wrong-shape', (d) => rewrite(d, (l) => {
      const t = l.find((x) => x.name === 'h.0.attn.c_proj.weight')!;
      t.shape = [8, 32];
    }), /tensor 'h\.0\.attn\.c_proj\.weight' has shape \[8, 32\], expected \[16, 16\]/],
    ['missing-tensor', (d) => rewrite(d, (l) => l.splice(l.findIndex((x) => x.name === 'h.1.ln_2.bias'), 1)), /missing tensor 'h\.1\.ln_2\.bias'/],
    ['extra-tensor', (d) => rewrite(d, (l) => l.push({ name: 'h.2.ln_1.weight', shape: [16], data: new Float32Array(16) })),
      /unexpected tensor 'h\.2\.ln_1\.weight'/],
    ['config-mismatch', (d) => {
      const cfg = JSON.parse(fs.readFileSync(path.join(d, 'config.json'), 'utf8'));
      fs.writeFileSync(path.join(d, 'config.json'), JSON.stringify({ ...cfg, n_layer: 3 }));
    }, /missing tensor 'h\.2\./],
    ['config-bad', (d) => fs.writeFileSync(path.join(d, 'config.json'), '{"n_embd": 16}'), /config\.json: 'vocab_size' must be a positive integer/],
    ['config-not-json', (d) => fs.writeFileSync(path.join(d, 'config.json'), 'n_embd=16'), /config\.json is not valid JSON/],
    ['heads', (d) => {
      const cfg = JSON.parse(fs.readFileSync(path.join(d, 'config.json'), 'utf8'));
      fs.writeFileSync(path.join(d, 'config.json'), JSON.stringify({ ...cfg, n_head: 3 }));
    }, /not divisible by nHead 3/],
    ['vocab-mismatch', (d) => {
      fs.writeFileSync(path.join(d, 'tokenizer.json'), JSON.stringify(createCharTokenizer('abc').toJSON()));
    }, /tokenizer\.json has 7 tokens but config\.json says vocab_size 100/],
    ['no-tokenizer', (d) => fs.rmSync(path.join(d, 'tokenizer.json')), /missing tokenizer\.json/],
    ['no-weights', (d) => fs.rmSync(weights(d)), /missing model\.safetensors/],
  ];
  for (const [name, change, re] of cases) {
    it(`rejects a corrupt checkpoint: ${name}`, () => {
      const d = corrupt(name, change);
      let error: unknown;
      try {
        loadCheckpoint(d);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(CheckpointError);
      const message = (error as Error).message;
      expect(message).toMatch(re);
      expect(message).toContain(d);
      expect(message).not.toContain('\n');
    });
  }

  it('rejects a path that is not a checkpoint directory', () => {
    expect(() => loadCheckpoint(path.join(tmp, 'nope'))).toThrow(/no such directory/);
    expect(() => loadCheckpoint(weights(dir))).toThrow(/not a directory/);
  });
});
