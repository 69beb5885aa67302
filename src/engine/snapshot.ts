/** Training snapshots: a training interrupted by a crash or kill continues from its last snapshot
 * instead of from step 0. One safetensors file (parameters and Adam moments) whose metadata holds
 * the step, the losses so far and a key naming the training it belongs to; written atomically. */
import { readFileSync, rmSync } from 'node:fs';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';
import type { TrainState } from './train.js';
import { writeFileAtomicSync } from '../util/atomic.js';
import { jsonHash } from '../util/hash.js';

/** A key for one training: equal keys mean the same start, data and settings, so a snapshot taken
 * under one key can be continued under it. */
export function trainingKey(parts: unknown): string {
  return jsonHash(parts);
}

export function writeSnapshot(file: string, key: string, state: TrainState): void {
  const tensors = (['params', 'm', 'v'] as const).map((name) => ({ name, shape: [state[name].length], data: state[name] }));
  writeFileAtomicSync(file, encodeSafetensors(tensors, { key, step: String(state.step), losses: JSON.stringify(state.losses) }));
}

/** The snapshot in `file` when it exists, is readable and belongs to `key`; else null and the
 * reason (a missing file has none). A snapshot is only a shortcut, so a bad one is set aside, not
 * fatal. */
export function readSnapshot(file: string, key: string): { state: TrainState | null; reason: string | null } {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { state: null, reason: code === 'ENOENT' ? null : `cannot read ${file} (${code})` };
  }
  try {
    const { tensors, metadata } = decodeSafetensors(bytes);
    if (metadata.key !== key) return { state: null, reason: `${file} belongs to another training` };
    const get = (name: string): Float32Array => {
      const t = tensors.get(name);
      if (!t) throw new Error(`no tensor '${name}'`);
      return t.data;
    };
    const losses: unknown = JSON.parse(metadata.losses ?? 'null');
    const step = Number(metadata.step);
    if (!Array.isArray(losses) || losses.length !== step || !losses.every((x) => typeof x === 'number')) {
      throw new Error('losses do not match the step');
    }
    return { state: { step, params: get('params'), m: get('m'), v: get('v'), losses: losses as number[] }, reason: null };
  } catch (err) {
    return { state: null, reason: `${file} is unreadable (${(err as Error).message})` };
  }
}

export function removeSnapshot(file: string): void {
  rmSync(file, { force: true });
}
