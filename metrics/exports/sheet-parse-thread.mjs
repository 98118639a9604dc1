// Entry of the sheet parser's thread under tsx or vitest: a worker thread does not inherit the TypeScript
// loader of the process that starts it, so it registers tsx itself before loading the module.
import { register } from 'tsx/esm/api';

register();
await import('./sheet-parse-thread.ts');
