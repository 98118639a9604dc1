import { describe, expect, it } from 'vitest';
import { parseNatsServers } from './nats-servers.ts';

describe('NATS_URL', () => {
  it('takes user and password out of the URLs, for the client, and hides the password in what is shown', () => {
    expect(parseNatsServers('nats://cm:s%40cret@10.0.0.1:4222,nats://cm:s%40cret@10.0.0.2:4222')).toEqual({
      servers: ['nats://10.0.0.1:4222', 'nats://10.0.0.2:4222'],
      shown: 'nats://cm:***@10.0.0.1:4222,nats://cm:***@10.0.0.2:4222',
      user: 'cm',
      pass: 's@cret',
    });
  });

  it('takes a token, and lets servers without credentials use the others', () => {
    expect(parseNatsServers('tls://t0ken@a:4222,b:4222')).toEqual({
      servers: ['tls://a:4222', 'nats://b:4222'],
      shown: 'tls://***@a:4222,nats://b:4222',
      token: 't0ken',
    });
    expect(parseNatsServers('nats://127.0.0.1:4222')).toEqual({
      servers: ['nats://127.0.0.1:4222'],
      shown: 'nats://127.0.0.1:4222',
    });
  });

  it('refuses servers that carry different credentials', () => {
    expect(() => parseNatsServers('nats://a:1@h1:4222,nats://a:2@h2:4222')).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', field: 'NATS_URL' }),
    );
  });
});
