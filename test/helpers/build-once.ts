import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * The slow tier's global setup: `npm run build` once, before any file runs. The tests that start the
 * platform as production does (the bin on the compiled build) then share one dist/, and no file rebuilds it
 * while another one's platform is reading it.
 */
export default async function buildOnce(): Promise<void> {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  await promisify(execFile)(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root });
}
