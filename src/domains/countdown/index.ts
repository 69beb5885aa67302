import type { Domain } from '../types.js';

// Placeholder until the domain lands.
export const countdown: Domain = {
  name: 'countdown',
  description: 'countdown (not implemented yet)',
  difficulty: { name: 'difficulty', min: 1, max: 1 },
  generate() {
    throw new Error('countdown: not implemented');
  },
  goldCompletion() {
    throw new Error('countdown: not implemented');
  },
  verify() {
    return { verdict: 'wrong', depth: 0, reason: 'not implemented' };
  },
};
