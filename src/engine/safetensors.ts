/** The safetensors format, float32 only: an 8-byte little-endian header length n, n bytes of JSON
 * header `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}`,
 * then the raw little-endian tensor bytes, offsets relative to the end of the header. The reader
 * checks everything the format promises (offsets in range, no overlap, no holes, sizes matching
 * shapes) and reports the first problem in one line. */

export class SafetensorsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SafetensorsError';
  }
}

export interface NamedTensor {
  name: string;
  shape: readonly number[];
  data: Float32Array;
}

export interface DecodedSafetensors {
  /** Tensors in file order. */
  tensors: Map<string, { dtype: 'F32'; shape: number[]; data: Float32Array }>;
  metadata: Record<string, string>;
}

/** Refuse headers larger than this (the reference implementation's limit). */
const MAX_HEADER = 100 * 1024 * 1024;

const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export function encodeSafetensors(tensors: readonly NamedTensor[], metadata: Readonly<Record<string, string>> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = { ...metadata };
  let offset = 0;
  for (const t of tensors) {
    if (t.name === '__metadata__' || t.name in header) throw new SafetensorsError(`duplicate or reserved tensor name '${t.name}'`);
    const n = numel(t.shape);
    if (n !== t.data.length) throw new SafetensorsError(`tensor '${t.name}' has ${t.data.length} values for shape [${t.shape.join(', ')}]`);
    header[t.name] = { dtype: 'F32', shape: [...t.shape], data_offsets: [offset, offset + 4 * n] };
    offset += 4 * n;
  }
  let json = JSON.stringify(header);
  // Pad with spaces so the data starts 8-byte aligned (allowed by the format).
  const jsonBytes = new TextEncoder().encode(json);
  const padded = Math.ceil(jsonBytes.length / 8) * 8;
  json += ' '.repeat(padded - jsonBytes.length);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let p = 8 + headerBytes.length;
  for (const t of tensors) {
    for (let i = 0; i < t.data.length; i++, p += 4) view.setFloat32(p, t.data[i]!, true);
  }
  return out;
}

export function decodeSafetensors(bytes: Uint8Array): DecodedSafetensors {
  if (bytes.length < 8) throw new SafetensorsError(`file is ${bytes.length} bytes, too short for the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(bytes.length - 8)) throw new SafetensorsError(`header length ${n} exceeds the file size (${bytes.length} bytes)`);
  if (n > BigInt(MAX_HEADER)) throw new SafetensorsError(`header length ${n} exceeds the ${MAX_HEADER}-byte limit`);
  const headerLen = Number(n);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
  } catch (err) {
    throw new SafetensorsError(`header is not valid UTF-8 JSON (${(err as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new SafetensorsError('header is not a JSON object');

  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries: { name: string; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SafetensorsError('__metadata__ is not an object');
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== 'string') throw new SafetensorsError(`__metadata__ value of '${k}' is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    if (typeof value !== 'object' || value === null) throw new SafetensorsError(`tensor '${name}': entry is not an object`);
    const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
    if (dtype !== 'F32') throw new SafetensorsError(`tensor '${name}': dtype ${JSON.stringify(dtype)} is not supported (expected "F32")`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new SafetensorsError(`tensor '${name}': shape must be a list of non-negative integers`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw new SafetensorsError(`tensor '${name}': data_offsets must be two non-negative integers`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end || end > dataLen) {
      throw new SafetensorsError(`tensor '${name}': data_offsets [${begin}, ${end}] out of range (data section is ${dataLen} bytes; truncated file?)`);
    }
    if (end - begin !== 4 * numel(shape)) {
      throw new SafetensorsError(`tensor '${name}': ${end - begin} bytes do not match shape [${shape.join(', ')}] (F32)`);
    }
    entries.push({ name, shape: shape as number[], begin, end });
  }
  // The data section must be covered exactly: sorted by offset, each tensor starts where the last ended.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const e of sorted) {
    if (e.begin < at) throw new SafetensorsError(`tensor '${e.name}' overlaps another tensor (offset ${e.begin} < ${at})`);
    if (e.begin > at) throw new SafetensorsError(`gap in the data section before tensor '${e.name}' (bytes ${at}..${e.begin} unused)`);
    at = e.end;
  }
  if (at !== dataLen) throw new SafetensorsError(`data section is ${dataLen} bytes but the tensors cover ${at} (truncated or trailing bytes)`);

  const tensors: DecodedSafetensors['tensors'] = new Map();
  for (const e of entries) {
    const data = new Float32Array((e.end - e.begin) / 4);
    let p = dataStart + e.begin;
    for (let i = 0; i < data.length; i++, p += 4) data[i] = view.getFloat32(p, true);
    tensors.set(e.name, { dtype: 'F32', shape: e.shape, data });
  }
  return { tensors, metadata };
}
