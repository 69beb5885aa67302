import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/ceiling.js', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

describe('ceiling CLI', () => {
  it('--help lists the commands and exits 0', () => {
    const r = run('--help');
    expect(r.status).toBe(0);
    for (const cmd of ['run', 'validate', 'generate']) expect(r.stdout).toContain(cmd);
  });
  it.each(['run', 'validate', 'generate'])('%s --help exits 0', (cmd) => {
    const r = run(cmd, '--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Usage: ceiling/);
  });
  it.each([
    [['bogus'], /unknown command 'bogus'/],
    [['generate', '--domain', 'chess'], /unknown domain 'chess'/],
    [['generate', '--domain', 'blocksworld', '--count', 'many'], /--count must be an integer/],
    [['generate'], /required option '--domain/],
    [['generate', '--domain', 'arithmetic', '--difficulty', '100000'], /--difficulty/],
  ])('user error %j → one line on stderr, exit 2', (args, message) => {
    const r = run(...args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
