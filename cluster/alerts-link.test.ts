import type { Msg, NatsConnection } from 'nats';
import { StringCodec } from 'nats';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../core/logger.ts';
import { closeAlertHarnesses, setup } from '../test/helpers/alert-harness.ts';
import { alertChangeSubject, alertCommandSubject, serveAlertCommands } from './alerts-link.ts';

/**
 * The leader's side of the alert commands, driven message by message on the real engine (SQLite records in
 * a temp dir); the NATS client is played by the test, which sees what is answered and announced (the whole
 * path between processes: test/cluster/roles.test.ts).
 */

const codec = StringCodec();
type Callback = (err: null, msg: Msg) => void;

async function leader() {
  const h = await setup();
  let callback: Callback | null = null;
  let queue: string | undefined;
  const published: Array<{ subject: string; body: unknown }> = [];
  const nc = {
    subscribe(_subject: string, opts: { callback: Callback; queue?: string }) {
      callback = opts.callback;
      queue = opts.queue;
      return { unsubscribe: () => (callback = null) };
    },
    publish(subject: string, data: Uint8Array) {
      published.push({ subject, body: JSON.parse(codec.decode(data)) });
    },
  } as unknown as Pick<NatsConnection, 'subscribe' | 'publish'>;
  const served = serveAlertCommands({ nc, engine: h.engine, subjectPrefix: 'cm', logger: silentLogger() });
  const ask = (body: unknown) =>
    new Promise<{ ok: boolean; result?: unknown; code?: string }>((resolve) => {
      const data = codec.encode(typeof body === 'string' ? body : JSON.stringify(body));
      const msg = {
        subject: alertCommandSubject('cm'),
        data,
        respond: (reply: Uint8Array) => {
          resolve(JSON.parse(codec.decode(reply)));
          return true;
        },
      } as unknown as Msg;
      if (callback === null) throw new Error('not subscribed');
      callback(null, msg);
    });
  return { h, ask, published, served, queue: () => queue, subscribed: () => callback !== null };
}

afterEach(closeAlertHarnesses);

describe('alert commands on the leader', () => {
  it('creates a rule, refuses an unknown command and bad JSON with codes, and answers errors as codes', async () => {
    const l = await leader();
    expect(l.queue()).toBe('leader');
    const created = await l.ask({
      op: 'createRule',
      by: 'operator (k1)',
      input: {
        name: 'PM2.5',
        severity: 'warning',
        condition: { kind: 'kpi-threshold', code: 'EN: EN: AQ: 1C', op: '>', value: 25 },
      },
    });
    expect(created).toMatchObject({ ok: true, result: { name: 'PM2.5', createdBy: 'operator (k1)' } });
    expect(l.h.engine.rules()).toHaveLength(1);
    expect(await l.ask({ op: 'explode', id: 'x', by: 'y' })).toMatchObject({
      ok: false,
      code: 'API_VALIDATION',
    });
    expect(await l.ask('{not json')).toMatchObject({ ok: false, code: 'API_VALIDATION' });
    expect(await l.ask({ op: 'acknowledge', id: 'a0000000000ff', by: 'y' })).toMatchObject({
      ok: false,
      code: 'API_NOT_FOUND',
    });
    // a rule the schema refuses: a validation error, not an internal one
    expect(
      await l.ask({
        op: 'createRule',
        by: 'y',
        input: { name: '', severity: 'loud', condition: { kind: 'x' } },
      }),
    ).toMatchObject({ ok: false, code: 'API_VALIDATION' });
    expect(l.h.engine.rules()).toHaveLength(1);
  });

  it('announces every alert change, and stops answering once closed', async () => {
    const l = await leader();
    const code = 'EN: EN: AQ: 1C';
    await l.ask({
      op: 'createRule',
      by: 'k1',
      input: {
        name: 'PM2.5',
        severity: 'critical',
        condition: { kind: 'kpi-threshold', code, op: '>', value: 25 },
      },
    });
    l.h.engine.offerKpi({ code, periodKind: 'month-to-date', value: { value: 30 } });
    const [opened] = (await l.h.engine.list({ state: 'open' })).items;
    const acked = await l.ask({ op: 'acknowledge', id: opened!.id, by: 'night shift' });
    expect(acked).toMatchObject({
      ok: true,
      result: { state: 'acknowledged', acknowledgedBy: 'night shift' },
    });
    expect(l.published.map((p) => [p.subject, (p.body as { state: string }).state])).toEqual([
      [alertChangeSubject('cm'), 'open'],
      [alertChangeSubject('cm'), 'acknowledged'],
    ]);
    l.served.close();
    expect(l.subscribed()).toBe(false);
  });
});
