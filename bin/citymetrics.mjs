#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so an installed package needs no build step.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = dirname(dirname(fileURLToPath(import.meta.url)));
const tsx = require.resolve('tsx/cli');
const result = spawnSync(process.execPath, [tsx, join(root, 'cli.ts'), ...process.argv.slice(2)], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
