import type { Command } from 'commander';
import { registerRun } from './run.js';
import { registerGenerate } from './generate.js';
import { registerValidate } from './validate.js';
import { registerCompare } from './compare.js';
import { registerDashboard } from './dashboard.js';
import { registerServe } from './serve.js';
import { registerTrainSft } from './train-sft.js';

export function registerCommands(program: Command): void {
  registerRun(program);
  registerCompare(program);
  registerValidate(program);
  registerGenerate(program);
  registerDashboard(program);
  registerServe(program);
  registerTrainSft(program);
}
