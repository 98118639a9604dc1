// Entry of the series store's writer thread: a worker thread does not inherit the TypeScript loader of the
// process that starts it (npm start and the bench run under tsx, the tests under vitest), so it registers
// tsx itself before loading the module.
import { register } from 'tsx/esm/api';

register();
await import('./series-writer-thread.ts');
