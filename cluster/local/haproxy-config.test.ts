import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMPOSE_HAPROXY, haproxyConfig } from './haproxy-config.ts';

const COMMITTED = join(import.meta.dirname, '..', 'deploy', 'haproxy.cfg');

describe('haproxy configuration', () => {
  it('the committed deployment file is what the generator makes (regenerate: npm run cluster:haproxy)', () => {
    expect(readFileSync(COMMITTED, 'utf8')).toBe(haproxyConfig(COMPOSE_HAPROXY));
  });

  it('checks every edge on its /readyz port and cuts a dead edge’s sessions; api nodes are sticky', () => {
    const cfg = haproxyConfig({
      bind: '127.0.0.1',
      mqttPort: 1,
      httpPort: 2,
      statsPort: 3,
      edges: [{ name: 'e1', host: 'h', port: 11, checkPort: 12 }],
      apis: [{ name: 'a1', host: 'h', port: 21, checkPort: 21 }],
    });
    expect(cfg).toContain('server e1 h:11 check inter 1s fall 2 rise 2 port 12');
    expect(cfg).toContain('default-server on-marked-down shutdown-sessions');
    expect(cfg).toContain('option httpchk GET /readyz');
    expect(cfg).toContain('server a1 h:21 check inter 1s fall 2 rise 2 port 21 cookie a1');
    expect(cfg).toContain('bind 127.0.0.1:1');
    expect(cfg).toContain('maxconn 8000');
  });
});
