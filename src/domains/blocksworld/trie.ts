/** Case-insensitive lookup of PDDL names straight from char codes, so the plan scanner never
 * builds a substring or lowercases one in its hot path. */

const SYMBOLS = 38;

/** Name characters → 0..37 (a-z, 0-9, '-', '_'), letters folded; -1 for anything else. */
export const NAME_CHAR = (() => {
  const t = new Int8Array(128).fill(-1);
  for (let c = 0; c < 26; c++) {
    t[97 + c] = c;
    t[65 + c] = c;
  }
  for (let d = 0; d < 10; d++) t[48 + d] = 26 + d;
  t[45] = 36;
  t[95] = 37;
  return t;
})();

export interface Trie {
  /** Child of node `k` for symbol `s` at `k * 38 + s`; 0 means none (the root is never a child). */
  next: Int32Array;
  /** Value stored at each node, -1 when no name ends there. */
  value: Int32Array;
}

export function buildTrie(names: readonly string[]): Trie {
  let size = 1;
  for (const nm of names) size += nm.length;
  const next = new Int32Array(size * SYMBOLS);
  const value = new Int32Array(size).fill(-1);
  let nodes = 1;
  names.forEach((nm, index) => {
    let k = 0;
    for (let i = 0; i < nm.length; i++) {
      const c = nm.charCodeAt(i);
      const s = c < 128 ? NAME_CHAR[c]! : -1;
      if (s < 0) throw new Error(`invalid name character in '${nm}'`);
      const slot = k * SYMBOLS + s;
      if (next[slot] === 0) next[slot] = nodes++;
      k = next[slot]!;
    }
    value[k] = index;
  });
  return { next, value };
}

/** The node reached from `node` by char code `c`, or -1 (also for -1 in, so a miss sticks). */
export function trieStep(trie: Trie, node: number, c: number): number {
  if (node < 0) return -1;
  const s = NAME_CHAR[c]!;
  const k = trie.next[node * SYMBOLS + s]!;
  return k === 0 ? -1 : k;
}
