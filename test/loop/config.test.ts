import { describe, expect, it } from 'vitest';
import { getDomain, problemSeed } from '../../src/domains/index.js';
import { CharTokenizer } from '../../src/engine/tokenizer.js';
import { PRESET_CONFIGS, PRESETS, presetConfig, resolveConfig } from '../../src/loop/config.js';

describe('presets', () => {
  it('take the domain the overrides name, and the overrides still win', () => {
    expect(resolveConfig('demo').domain).toBe('countdown');
    expect(resolveConfig('demo').model).toEqual(PRESET_CONFIGS.demo.model);
    const bw = resolveConfig('demo', {}, { domain: 'blocksworld' });
    expect(bw).toEqual(presetConfig('demo', 'blocksworld'));
    expect(bw.model.contextLength).toBeGreaterThan(PRESET_CONFIGS.demo.model.contextLength);
    expect(bw.problems.difficulties).toEqual([3, 4, 5]);
    // A config file's fields override the domain's preset; a flag's domain beats the file's.
    const file = { domain: 'countdown', ei: { n: 3 }, model: { contextLength: 200 } };
    const both = resolveConfig('demo', file, { domain: 'blocksworld' });
    expect(both.domain).toBe('blocksworld');
    expect(both.ei.n).toBe(3);
    expect(both.model.contextLength).toBe(200);
    expect(both.ei.maxTokens).toBe(bw.ei.maxTokens);
    // Other domains keep the preset as it is.
    expect(resolveConfig('small', { domain: 'arithmetic' })).toEqual({ ...PRESET_CONFIGS.small, domain: 'arithmetic' });
    // Logic gets proof depths its generator makes, and lengths that hold them.
    const logic = resolveConfig('small', { domain: 'logic' });
    expect(logic.problems.difficulties).toEqual([1, 2, 3, 4]);
    expect(logic.ei.n).toBe(PRESET_CONFIGS.small.ei.n);
  });

  it.each([...PRESETS.map((p) => [p, 'blocksworld'] as const), ['demo', 'countdown'] as const])(
    '%s on %s: context and response lengths hold most problems of the hardest grade',
    (preset, domainName) => {
      const config = presetConfig(preset, domainName);
      const domain = getDomain(domainName);
      const tokenizer = new CharTokenizer(undefined, [...(domain.words ?? [])]);
      const hardest = Math.max(...config.problems.difficulties);
      let fit = 0;
      const count = 100;
      for (let i = 0; i < count; i++) {
        const p = domain.generate(problemSeed(5, i), hardest);
        const completion = tokenizer.encode(domain.goldCompletion(p)).length;
        const whole = tokenizer.encode(p.prompt + domain.goldCompletion(p)).length;
        if (whole + 2 <= config.model.contextLength && completion + 1 <= config.ei.maxTokens && completion + 1 <= config.eval.maxTokens) fit++;
      }
      expect(fit / count).toBeGreaterThanOrEqual(0.8);
    },
  );
});
