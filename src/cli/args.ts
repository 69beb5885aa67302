/** Parsers for numeric flags: a bad value is a one-line UserError naming the flag. */
import { UserError } from './errors.js';

export function parseInteger(flag: string, min = -Infinity, max = Infinity) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new UserError(`${flag} must be an integer, got '${value}'`);
    if (n < min || n > max) throw new UserError(`${flag} must be between ${min} and ${max}, got ${n}`);
    return n;
  };
}

export function parseNumber(flag: string, min = -Infinity, max = Infinity) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) throw new UserError(`${flag} must be a number, got '${value}'`);
    if (n < min || n > max) throw new UserError(`${flag} must be between ${min} and ${max}, got ${n}`);
    return n;
  };
}
