import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: IncomingMessage['headers'];
  raw: Buffer;
}

export interface WebhookReceiver {
  /** with a query, as a token in the URL would be */
  url: string;
  got: Received[];
  /** resolves once the receiver has had `n` requests */
  requests(n: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * A real HTTP receiver (node:http on an ephemeral loopback port) that answers each request with the next
 * status of its script (the last one repeating), and keeps what it got.
 */
export async function webhookReceiver(statuses: number[]): Promise<WebhookReceiver> {
  const got: Received[] = [];
  const waiting: Array<() => void> = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ headers: req.headers, raw: Buffer.concat(chunks) });
      const status = statuses[Math.min(got.length - 1, statuses.length - 1)]!;
      res
        .writeHead(status, { 'content-type': 'text/plain' })
        .end(status >= 300 ? `no thanks (${status})` : 'ok');
      for (const w of waiting.splice(0)) w();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/reports?token=hidden`,
    got,
    requests: (n) =>
      new Promise<void>((resolve) => {
        const check = () => (got.length >= n ? resolve() : waiting.push(check));
        check();
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** What a receiver checks: the HMAC-SHA256 of the raw body with the shared secret, in constant time. */
export function signatureValid(secret: string, r: Received): boolean {
  const header = String(r.headers['x-citymetrics-signature-256'] ?? '');
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(r.raw).digest('hex')}`);
  return header.length === expected.length && timingSafeEqual(Buffer.from(header), expected);
}
