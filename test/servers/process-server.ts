import { existsSync } from 'node:fs';

export { freePort, ProcessServer, type ProcessServerSpec } from '../../cluster/local/process-server.ts';

/**
 * Where the binary is, or null when it is not installed. Under CI (`CI=true`) a missing server is a
 * failure, not a skip: CI installs it (scripts/ci-services.sh), so its absence means CI is broken.
 */
export function findServerBinary(path: string, pkg: string): string | null {
  if (existsSync(path)) return path;
  const message = `${path} not found: install Debian's "${pkg}" package (scripts/ci-services.sh install)`;
  if (process.env.CI === 'true') throw new Error(`${message}; CI requires it`);
  console.warn(`skipping: ${message}`);
  return null;
}
