/** The registry of built-in domains. */
import type { Domain } from './types.js';
import { blocksworld } from './blocksworld/index.js';
import { logic } from './logic/index.js';
import { arithmetic } from './arithmetic/index.js';
import { countdown } from './countdown/index.js';
import { UserError } from '../cli/errors.js';

export const DOMAINS: Readonly<Record<string, Domain<any>>> = { blocksworld, logic, arithmetic, countdown };

export function getDomain(name: string): Domain<any> {
  const domain = DOMAINS[name];
  if (!domain) throw new UserError(`unknown domain '${name}' (expected one of: ${Object.keys(DOMAINS).join(', ')})`);
  return domain;
}

/** Seed for the i-th problem of a stream, so problem i is the same whatever the count asked. */
export function problemSeed(seed: number, index: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(index + 1, 0xc2b2ae35)) >>> 0;
}
