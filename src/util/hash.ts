/** Content keys: a SHA-256 of a value's JSON, for "is this the same work?" checks. */
import { createHash } from 'node:crypto';

export function jsonHash(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}
