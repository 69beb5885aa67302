import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeDirAtomic, writeDirAtomicSync, writeFileAtomic, writeFileAtomicSync } from '../../src/util/atomic.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ceiling-atomic-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

let counter = 0;
function freshDir(): string {
  const d = path.join(tmp, `case-${counter++}`);
  fs.mkdirSync(d);
  return d;
}

/** Data that makes the write fail after the temporary file was created. */
const poisoned = { toString: () => 'not bytes' } as unknown as Uint8Array;

describe('writeFileAtomic', () => {
  for (const [label, write] of [
    ['sync', async (f: string, d: string | Uint8Array) => writeFileAtomicSync(f, d)],
    ['async', writeFileAtomic],
  ] as const) {
    it(`${label}: writes and replaces whole files`, async () => {
      const d = freshDir();
      const f = path.join(d, 'state.json');
      await write(f, '{"v":1}');
      expect(fs.readFileSync(f, 'utf8')).toBe('{"v":1}');
      await write(f, new Uint8Array([1, 2, 3]));
      expect([...fs.readFileSync(f)]).toEqual([1, 2, 3]);
      expect(fs.readdirSync(d)).toEqual(['state.json']);
    });

    it(`${label}: a failed write leaves the old file and no temporary behind`, async () => {
      const d = freshDir();
      const f = path.join(d, 'state.json');
      fs.writeFileSync(f, 'old');
      await expect(write(f, poisoned)).rejects.toThrow();
      expect(fs.readFileSync(f, 'utf8')).toBe('old');
      expect(fs.readdirSync(d)).toEqual(['state.json']);
    });

    it(`${label}: a failed rename (target is a directory) leaves no temporary behind`, async () => {
      const d = freshDir();
      const f = path.join(d, 'taken');
      fs.mkdirSync(f);
      await expect(write(f, 'data')).rejects.toThrow();
      expect(fs.readdirSync(d)).toEqual(['taken']);
      expect(fs.statSync(f).isDirectory()).toBe(true);
    });
  }
});

describe('writeDirAtomic', () => {
  for (const [label, write] of [
    ['sync', async (t: string, files: Record<string, string | Uint8Array>) => writeDirAtomicSync(t, files)],
    ['async', writeDirAtomic],
  ] as const) {
    it(`${label}: creates, then replaces the whole directory (old files gone)`, async () => {
      const d = freshDir();
      const t = path.join(d, 'ckpt');
      await write(t, { 'a.txt': 'A', 'b.bin': new Uint8Array([9]) });
      expect(fs.readdirSync(t).sort()).toEqual(['a.txt', 'b.bin']);
      await write(t, { 'c.txt': 'C' });
      expect(fs.readdirSync(t)).toEqual(['c.txt']);
      expect(fs.readdirSync(d)).toEqual(['ckpt']);
    });

    it(`${label}: a failure part-way leaves the previous directory intact and no temporary`, async () => {
      const d = freshDir();
      const t = path.join(d, 'ckpt');
      await write(t, { 'a.txt': 'A' });
      await expect(write(t, { 'new.txt': 'N', 'broken.bin': poisoned })).rejects.toThrow();
      await expect(write(t, { 'new.txt': 'N', '../escape': 'x' })).rejects.toThrow(/invalid file name/);
      expect(fs.readdirSync(d)).toEqual(['ckpt']);
      expect(fs.readdirSync(t)).toEqual(['a.txt']);
      expect(fs.readFileSync(path.join(t, 'a.txt'), 'utf8')).toBe('A');
    });
  }
});
