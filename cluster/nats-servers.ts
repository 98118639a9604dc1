import { roleList } from '../core/config-cluster.ts';
import { CityError } from '../core/errors.ts';

/** The servers of NATS_URL, and the user and password or token some of them carry. */
export interface NatsServers {
  /** For the client: the URLs without credentials. */
  servers: string[];
  /** For messages and logs: the same, the password shown as ***. */
  shown: string;
  user?: string;
  pass?: string;
  token?: string;
}

/**
 * Reads NATS_URL as the other NATS clients do: `nats://user:password@host:4222` or `nats://token@host:4222`
 * (URL-encoded). The Node client takes credentials only as options and would ignore them in the URL,
 * connecting without and failing with a bare AUTHORIZATION_VIOLATION, so they are taken out here. Servers
 * of one list must carry the same credentials, or none (those then use the others').
 */
export function parseNatsServers(natsUrl: string): NatsServers {
  const servers: string[] = [];
  const shown: string[] = [];
  let auth: { user?: string; pass?: string; token?: string } | null = null;
  for (const raw of roleList(natsUrl)) {
    const withScheme = /^[a-z]+:\/\//.test(raw) ? raw : `nats://${raw}`;
    const u = new URL(withScheme);
    const user = decodeURIComponent(u.username);
    const pass = decodeURIComponent(u.password);
    if (user !== '') {
      const these = pass === '' ? { token: user } : { user, pass };
      if (auth !== null && JSON.stringify(auth) !== JSON.stringify(these))
        throw new CityError(
          'CONFIG_INVALID',
          'NATS_URL: its servers carry different credentials; give every server the same user and password (or token)',
          { field: 'NATS_URL' },
        );
      auth = these;
    }
    u.username = '';
    u.password = '';
    const bare = `${u.protocol}//${u.host}`;
    servers.push(bare);
    shown.push(user === '' ? bare : `${u.protocol}//${pass === '' ? '***' : `${user}:***`}@${u.host}`);
  }
  return { servers, shown: shown.join(','), ...(auth ?? {}) };
}
