import type { Domain } from '../types.js';

// Placeholder until the domain lands.
export const logic: Domain = {
  name: 'logic',
  description: 'logic (not implemented yet)',
  difficulty: { name: 'difficulty', min: 1, max: 1 },
  generate() {
    throw new Error('logic: not implemented');
  },
  goldCompletion() {
    throw new Error('logic: not implemented');
  },
  verify() {
    return { verdict: 'wrong', depth: 0, reason: 'not implemented' };
  },
};
