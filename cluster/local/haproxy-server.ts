import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type HaproxySpec, haproxyConfig } from './haproxy-config.ts';
import { ProcessServer } from './process-server.ts';

/** Debian's haproxy. */
export const HAPROXY_PATH = '/usr/sbin/haproxy';

/** haproxy with the cluster's configuration written to `<dir>/haproxy.cfg`, in the foreground (-db). */
export async function startHaproxy(options: {
  dir: string;
  spec: HaproxySpec;
  binary?: string;
}): Promise<ProcessServer> {
  const file = join(options.dir, 'haproxy.cfg');
  writeFileSync(file, haproxyConfig(options.spec));
  const server = new ProcessServer({
    name: 'haproxy',
    command: options.binary ?? HAPROXY_PATH,
    args: ['-f', file, '-db'],
    readyUrl: `http://127.0.0.1:${options.spec.statsPort}/healthz`,
    logFile: join(options.dir, 'haproxy.log'),
  });
  await server.start();
  return server;
}
