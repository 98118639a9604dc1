import { type Msg, type NatsConnection, StringCodec, type Subscription } from 'nats';
import type { AlertEngine } from '../alerts/alert-engine.ts';
import type { AlertQuery, AlertRecords } from '../alerts/alert-records.ts';
import type { AlertService } from '../alerts/alert-service.ts';
import type { Alert, AlertRule, RuleInput } from '../alerts/alert-types.ts';
import { CityError, type ErrorCode, errorCatalogue, isCityError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';

/**
 * Alerts in a cluster. One engine evaluates the rules: the kpi leader's (it hears every edge's readings
 * through its live relay, and the KPI values it computes), writing to the alert records in PostgreSQL. The
 * api nodes read those records, and send what changes alerts (a rule created or deleted, an alert
 * acknowledged or cleared) to the leader over NATS request/reply, so that one engine decides everything
 * and no two nodes write the same alert. The leader announces each change on a subject the api nodes'
 * live pages listen to. With no leader (a takeover in progress), a change is refused with
 * ALERTS_LEADER_UNAVAILABLE and reads keep working.
 */

export const alertCommandSubject = (prefix: string) => `${prefix}.alerts.commands`;
export const alertChangeSubject = (prefix: string) => `${prefix}.alerts.changes`;

/** Below the api nodes' default request timeout, so a decided change is answered as such. */
const STORE_WAIT_MS = 3_000;

type Command =
  | { op: 'createRule'; input: RuleInput; by: string }
  | { op: 'deleteRule'; id: string; by: string }
  | { op: 'acknowledge'; id: string; by: string }
  | { op: 'clear'; id: string; by: string };

type Reply = { ok: true; result: unknown } | { ok: false; code: string; message: string; field?: string };

const codec = StringCodec();
const encode = (value: unknown) => codec.encode(JSON.stringify(value));

/** The leader's side: answers the api nodes' commands with its engine and announces every change. */
export function serveAlertCommands(deps: {
  nc: Pick<NatsConnection, 'subscribe' | 'publish'>;
  engine: AlertEngine;
  subjectPrefix: string;
  logger: Logger;
}): { close(): void } {
  const log = deps.logger.child({ component: 'alerts-link' });
  const { engine } = deps;
  const run = async (c: Command): Promise<unknown> => {
    switch (c.op) {
      case 'createRule':
        return engine.createRule(c.input, c.by);
      case 'deleteRule':
        await engine.deleteRule(c.id, c.by);
        return null;
      case 'acknowledge':
        return engine.acknowledge(c.id, c.by);
      case 'clear':
        return engine.clear(c.id, c.by);
      default:
        // another release's command, or none: refused, never answered as done
        throw new CityError('API_VALIDATION', 'unknown alert command');
    }
  };
  const answer = (msg: Msg, reply: Reply) => {
    try {
      msg.respond(encode(reply));
    } catch (err) {
      log.warn({ err }, 'alert command answered too late: the asker has gone');
    }
  };
  const sub: Subscription = deps.nc.subscribe(alertCommandSubject(deps.subjectPrefix), {
    // One queue group: should two nodes believe they lead for a moment (one lost its lock and has not
    // noticed yet), each command still reaches one of them, never both.
    queue: 'leader',
    callback: function alertCommand(err, msg) {
      if (err !== null) return;
      let command: Command;
      try {
        command = JSON.parse(codec.decode(msg.data)) as Command;
      } catch {
        answer(msg, { ok: false, code: 'API_VALIDATION', message: 'alert command is not JSON' });
        return;
      }
      // Answered once the change is in PostgreSQL, so what one api node was told every api node lists; or,
      // with PostgreSQL unreachable, after STORE_WAIT_MS: the change is decided, and stored once it is back.
      run(command).then(
        async (result) => {
          await engine.stored(STORE_WAIT_MS);
          answer(msg, { ok: true, result: result ?? null });
        },
        (e: unknown) => {
          if (isCityError(e)) answer(msg, { ok: false, code: e.code, message: e.message, field: e.field });
          else {
            // a rule input the schema refuses arrives as a ZodError
            const issues = (e as { issues?: Array<{ path: unknown[]; message: string }> }).issues;
            if (Array.isArray(issues))
              answer(msg, {
                ok: false,
                code: 'API_VALIDATION',
                message: issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
              });
            else {
              log.error({ err: e, op: command.op }, 'alert command failed');
              answer(msg, {
                ok: false,
                code: 'API_INTERNAL',
                message: 'the alert command failed on the leader',
              });
            }
          }
        },
      );
    },
  });
  const stopChanges = engine.onChange((alert) => {
    try {
      deps.nc.publish(alertChangeSubject(deps.subjectPrefix), encode(alert));
    } catch (err) {
      log.warn({ err }, 'alert change not announced (the api nodes list it from PostgreSQL)');
    }
  });
  return {
    close() {
      stopChanges();
      sub.unsubscribe();
    },
  };
}

export interface RemoteAlertsOptions {
  subjectPrefix: string;
  /** How long an api node waits for the leader's answer (ms). Default 5 000. */
  timeoutMs?: number;
}

/**
 * An api node's alerts: reads from the shared records, changes through the kpi leader, live changes from
 * the leader's announcements.
 */
export class RemoteAlerts implements AlertService {
  private readonly listeners = new Set<(alert: Alert) => void>();
  private readonly sub: Subscription;
  private readonly timeoutMs: number;

  constructor(
    private readonly deps: {
      nc: Pick<NatsConnection, 'subscribe' | 'request'>;
      records: AlertRecords;
      logger: Logger;
    },
    private readonly options: RemoteAlertsOptions,
  ) {
    this.timeoutMs = options.timeoutMs ?? 5_000;
    const log = deps.logger.child({ component: 'alerts-link' });
    this.sub = deps.nc.subscribe(alertChangeSubject(options.subjectPrefix), {
      callback: (err, msg) => {
        if (err !== null) return;
        let alert: Alert;
        try {
          alert = JSON.parse(codec.decode(msg.data)) as Alert;
        } catch {
          log.warn('an alert change that is not JSON was ignored');
          return;
        }
        for (const l of this.listeners) {
          try {
            l(alert);
          } catch (e) {
            log.error({ err: e }, 'alert listener failed');
          }
        }
      },
    });
  }

  rules(): Promise<AlertRule[]> {
    return this.deps.records.rules();
  }

  list(query?: AlertQuery): Promise<{ items: Alert[]; total: number }> {
    return this.deps.records.listAlerts(query);
  }

  async get(id: string): Promise<Alert> {
    const alert = await this.deps.records.getAlert(id);
    if (!alert) throw new CityError('API_NOT_FOUND', `no alert ${id}`, { field: 'id' });
    return alert;
  }

  createRule(input: RuleInput, createdBy: string): Promise<AlertRule> {
    return this.command({ op: 'createRule', input, by: createdBy }) as Promise<AlertRule>;
  }

  async deleteRule(id: string, by: string): Promise<void> {
    await this.command({ op: 'deleteRule', id, by });
  }

  acknowledge(id: string, by: string): Promise<Alert> {
    return this.command({ op: 'acknowledge', id, by }) as Promise<Alert>;
  }

  clear(id: string, by: string): Promise<Alert> {
    return this.command({ op: 'clear', id, by }) as Promise<Alert>;
  }

  onChange(listener: (alert: Alert) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async command(c: Command): Promise<unknown> {
    let msg: Msg;
    try {
      msg = await this.deps.nc.request(alertCommandSubject(this.options.subjectPrefix), encode(c), {
        timeout: this.timeoutMs,
      });
    } catch (err) {
      // 503: no subscriber (no leader); otherwise a timeout or a lost connection
      const code = (err as { code?: unknown }).code;
      throw new CityError(
        'ALERTS_LEADER_UNAVAILABLE',
        code === '503'
          ? 'no kpi leader is running (a takeover may be in progress): try again in a few seconds'
          : `the kpi leader did not answer within ${this.timeoutMs} ms: try again`,
        { cause: err },
      );
    }
    const reply = JSON.parse(codec.decode(msg.data)) as Reply;
    if (reply.ok) return reply.result;
    const code = (reply.code in errorCatalogue ? reply.code : 'API_INTERNAL') as ErrorCode;
    throw new CityError(code, reply.message, reply.field !== undefined ? { field: reply.field } : {});
  }

  close(): void {
    this.sub.unsubscribe();
    this.listeners.clear();
  }
}
