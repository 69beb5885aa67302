import type { Domain } from '../types.js';

// Placeholder until the domain lands.
export const arithmetic: Domain = {
  name: 'arithmetic',
  description: 'arithmetic (not implemented yet)',
  difficulty: { name: 'difficulty', min: 1, max: 1 },
  generate() {
    throw new Error('arithmetic: not implemented');
  },
  goldCompletion() {
    throw new Error('arithmetic: not implemented');
  },
  verify() {
    return { verdict: 'wrong', depth: 0, reason: 'not implemented' };
  },
};
