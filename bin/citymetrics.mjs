#!/usr/bin/env node
// The citymetrics command. The CLI runs in this very process (imported, not spawned): a signal sent to this
// pid (SIGTERM to PID 1 in a container, Ctrl-C) reaches the platform's own handlers, which drain, flush and
// set the exit code. A child process would need every signal and the exit status relayed by hand.
//
// It runs the compiled dist/cli.js when there is one (`npm run build`; `npm start` builds first, so it never
// runs a stale build), else cli.ts through tsx registered in-process: a fresh clone, or a checkout whose
// build was removed, still starts without a build step.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/cli.js', import.meta.url);
if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../cli.ts', import.meta.url).href);
}
