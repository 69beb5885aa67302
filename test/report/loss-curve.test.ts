import { describe, expect, it } from 'vitest';
import { lossCurve } from '../../src/report/report.js';

const steps = (losses: number[]) => losses.map((loss, i) => ({ step: i + 1, loss }));

describe('lossCurve', () => {
  it('averages windows of steps and places each mean at its window\'s last step', () => {
    expect(lossCurve(steps([4, 2, 3, 1, 5]), 3)).toEqual([
      { step: 2, loss: 3 },
      { step: 4, loss: 2 },
      { step: 5, loss: 5 },
    ]);
  });

  it('keeps every step of a short training and thins a long one to the point budget', () => {
    expect(lossCurve(steps([1, 2]), 200)).toEqual(steps([1, 2]));
    const long = lossCurve(steps(Array.from({ length: 18_750 }, (_, i) => 1 / (i + 1))));
    expect(long.length).toBeLessThanOrEqual(200);
    expect(long.at(-1)!.step).toBe(18_750);
    expect(lossCurve([])).toEqual([]);
  });
});
