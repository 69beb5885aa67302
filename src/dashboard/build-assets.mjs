// Bundles the dashboard page (src/dashboard/page) with its charting libraries into
// dist/dashboard/assets, so the server has everything it serves and nothing loads from elsewhere.
// Run by `npm run build:dashboard`; tests call buildAssets() with their own output directory.
import { build } from 'esbuild';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';

const here = fileURLToPath(new URL('.', import.meta.url));
export const DEFAULT_OUTDIR = join(here, '..', '..', 'dist', 'dashboard', 'assets');

/** @param {string} [outdir] */
export async function buildAssets(outdir = DEFAULT_OUTDIR) {
  await build({
    entryPoints: [
      { in: join(here, 'page', 'main.ts'), out: 'app' },
      { in: join(here, 'page', 'style.css'), out: 'app' },
    ],
    outdir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    minify: true,
    sourcemap: false,
    logLevel: 'warning',
  });
  return outdir;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const out = await buildAssets(process.argv[2] ?? DEFAULT_OUTDIR);
  process.stdout.write(`dashboard assets: ${out}\n`);
}
