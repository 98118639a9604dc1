import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMPOSE_HAPROXY, haproxyConfig } from '../local/haproxy-config.ts';

/** Writes cluster/deploy/haproxy.cfg, the haproxy of docker-compose.cluster.yml, from the generator. */
writeFileSync(join(import.meta.dirname, 'haproxy.cfg'), haproxyConfig(COMPOSE_HAPROXY));
