// `npm run build`: compiles the runtime (everything cli.ts reaches, plus the series writer thread, which is
// loaded by URL and not imported) to dist/ with tsc, then copies the files the code reads at run time by
// a path relative to itself, so dist/ runs on its own: `node dist/cli.js start`.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const out = join(root, 'dist');
/** Read at run time next to the compiled file that reads them (build-http-app.ts, catalogue.ts). */
const ASSETS = ['dashboards/public', 'metrics/catalogue/kpis.json'];

// tsc builds incrementally from dist/.tsbuildinfo; with the output gone but the record kept it would
// think there is nothing to emit.
if (!existsSync(join(out, 'cli.js'))) rmSync(join(out, '.tsbuildinfo'), { force: true });

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const compiled = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], {
  cwd: root,
  stdio: 'inherit',
});
if (compiled.status !== 0) process.exit(compiled.status ?? 1);

for (const asset of ASSETS) {
  const target = join(out, asset);
  // Replaced, not merged: a file deleted from the source must not stay served from dist.
  rmSync(target, { recursive: true, force: true });
  mkdirSync(dirname(target), { recursive: true });
  cpSync(join(root, asset), target, { recursive: true });
}
