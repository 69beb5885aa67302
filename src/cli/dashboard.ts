/** `ceiling dashboard DIR...`: a local web page over run directories, live while they are written. */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { startDashboard, type Dashboard } from '../dashboard/server.js';
import type { RunInfo } from '../dashboard/api.js';
import type { RunStatus } from '../dashboard/sources.js';
import { parseInteger } from './args.js';
import { UserError } from './errors.js';

export const DEFAULT_PORT = 8470;

interface DashboardFlags {
  port: number;
  host: string;
}

/** Resolves once the process is asked to stop (Ctrl-C or SIGTERM). */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((done) => {
    const stop = (sig: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      done(sig);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

export function registerDashboard(program: Command): void {
  program
    .command('dashboard')
    .description('serve a local web page over run directories (or a compare directory), updated live while runs write')
    .argument('<dirs...>', 'run directories, or compare directories holding one run directory per method')
    .option('--port <n>', `port to listen on (0 picks a free one)`, parseInteger('--port', 0, 65535), DEFAULT_PORT)
    .option('--host <addr>', 'address to bind (the page has no access control: keep it local)', '127.0.0.1')
    .action(async (dirs: string[], flags: DashboardFlags) => {
      const abs = dirs.map((d) => resolve(d));
      const missing = abs.find((d) => !existsSync(d));
      if (missing) throw new UserError(`dashboard: ${missing} does not exist`);
      let dashboard: Dashboard;
      // Said once per change, here and on the page: a run that cannot be shown, and when it can.
      const onStatus = (info: RunInfo, previous: RunStatus | null) => {
        if (info.status !== 'ok') process.stderr.write(`ceiling dashboard: ${info.message ?? `${info.dir}: ${info.status}`}\n`);
        else if (previous !== null) process.stderr.write(`ceiling dashboard: ${info.dir}: readable again\n`);
      };
      try {
        dashboard = await startDashboard({ dirs: abs, port: flags.port, host: flags.host, onStatus });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE') throw new UserError(`dashboard: port ${flags.port} is already in use (try --port 0 for a free one)`);
        if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EACCES') throw new UserError(`dashboard: cannot listen on ${flags.host}:${flags.port} (${code})`);
        throw err;
      }
      await dashboard.runs();
      if (dashboard.missingAssets.length > 0) {
        process.stderr.write(`ceiling dashboard: the page is not built (missing ${dashboard.missingAssets.join(', ')}); run npm run build\n`);
      }
      process.stdout.write(`ceiling dashboard: ${dashboard.url}\n`);
      await untilSignal();
      await dashboard.close();
    });
}
