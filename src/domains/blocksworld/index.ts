import type { Domain } from '../types.js';

// Placeholder until the domain lands.
export const blocksworld: Domain = {
  name: 'blocksworld',
  description: 'blocksworld (not implemented yet)',
  difficulty: { name: 'difficulty', min: 1, max: 1 },
  generate() {
    throw new Error('blocksworld: not implemented');
  },
  goldCompletion() {
    throw new Error('blocksworld: not implemented');
  },
  verify() {
    return { verdict: 'wrong', depth: 0, reason: 'not implemented' };
  },
};
