import type { Command } from 'commander';
import { registerRun } from './run.js';
import { registerGenerate } from './generate.js';
import { registerValidate } from './validate.js';

export function registerCommands(program: Command): void {
  registerRun(program);
  registerValidate(program);
  registerGenerate(program);
}
