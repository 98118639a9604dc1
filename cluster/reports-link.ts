import { type Msg, type NatsConnection, StringCodec, type Subscription } from 'nats';
import { CityError, type ErrorCode, errorCatalogue, isCityError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { ReportRecords } from '../metrics/report-pack/report-records.ts';
import {
  type MonthReport,
  monthReport,
  type ReportService,
  requireMonth,
  type SentPack,
} from '../metrics/report-pack/report-service.ts';

/**
 * Report packs in a cluster. The kpi leader builds and delivers them, on the shared record in PostgreSQL
 * (metrics/report-pack/postgres-report-records.ts). An api node lists packs and deliveries from that
 * record; a send on demand (`POST /api/reports/{month}`) goes to the leader over NATS request/reply, so
 * that one node builds a pack and runs its deliveries. With no leader (a takeover in progress) a send is
 * refused with REPORT_LEADER_UNAVAILABLE and reads keep working.
 */

export const reportCommandSubject = (prefix: string) => `${prefix}.reports.commands`;

type Command = { op: 'send'; month: string };
type Reply = { ok: true; result: SentPack } | { ok: false; code: string; message: string; field?: string };

const codec = StringCodec();
const encode = (value: unknown) => codec.encode(JSON.stringify(value));

/** The leader's side: answers the api nodes' sends with its report packs. */
export function serveReportCommands(deps: {
  nc: Pick<NatsConnection, 'subscribe'>;
  reports: Pick<ReportService, 'send'>;
  subjectPrefix: string;
  logger: Logger;
}): { close(): void } {
  const log = deps.logger.child({ component: 'reports-link' });
  const answer = (msg: Msg, reply: Reply) => {
    try {
      msg.respond(encode(reply));
    } catch (err) {
      log.warn({ err }, 'report command answered too late: the asker has gone');
    }
  };
  const sub: Subscription = deps.nc.subscribe(reportCommandSubject(deps.subjectPrefix), {
    // One queue group: should two nodes believe they lead for a moment (one lost its lock and has not
    // noticed yet), each command still reaches one of them, never both.
    queue: 'leader',
    callback: function reportCommand(err, msg) {
      if (err !== null) return;
      let command: Command;
      try {
        command = JSON.parse(codec.decode(msg.data)) as Command;
      } catch {
        answer(msg, { ok: false, code: 'API_VALIDATION', message: 'report command is not JSON' });
        return;
      }
      if (command.op !== 'send' || typeof command.month !== 'string') {
        answer(msg, { ok: false, code: 'API_VALIDATION', message: 'unknown report command' });
        return;
      }
      // Answered once the deliveries are in PostgreSQL: every api node lists them from then on.
      deps.reports.send(command.month).then(
        (result) => answer(msg, { ok: true, result }),
        (e: unknown) => {
          if (isCityError(e)) answer(msg, { ok: false, code: e.code, message: e.message, field: e.field });
          else {
            log.error({ err: e, op: command.op }, 'report command failed');
            answer(msg, {
              ok: false,
              code: 'API_INTERNAL',
              message: 'the report command failed on the leader',
            });
          }
        },
      );
    },
  });
  return { close: () => sub.unsubscribe() };
}

export interface RemoteReportsOptions {
  subjectPrefix: string;
  /** How long an api node waits for the leader's answer (ms); a send builds a pack first. Default 30 000. */
  timeoutMs?: number;
}

/** An api node's report packs: reads from the shared record, sends through the kpi leader. */
export class RemoteReports implements ReportService {
  private readonly timeoutMs: number;

  constructor(
    private readonly deps: {
      nc: Pick<NatsConnection, 'request'>;
      records: ReportRecords;
      /** The newest frozen version of a month (this node's copy of the KPI records), null while open. */
      latestVersion: (month: string) => number | null;
      /** The targets of this node's configuration: every kpi and api node is given the same. */
      targets: ReadonlyArray<{ kind: string; destination: string }>;
    },
    private readonly options: RemoteReportsOptions,
  ) {
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  get targets(): ReadonlyArray<{ kind: string; destination: string }> {
    return this.deps.targets;
  }

  list(limit = 200) {
    return this.deps.records.deliveries({ limit });
  }

  month(label: string): Promise<MonthReport> {
    return monthReport(this.deps.records, this.deps.latestVersion, label);
  }

  async send(label: string): Promise<SentPack> {
    const month = requireMonth(label);
    let msg: Msg;
    try {
      msg = await this.deps.nc.request(
        reportCommandSubject(this.options.subjectPrefix),
        encode({ op: 'send', month } satisfies Command),
        { timeout: this.timeoutMs },
      );
    } catch (err) {
      // 503: no subscriber (no leader); otherwise a timeout or a lost connection
      const code = (err as { code?: unknown }).code;
      throw new CityError(
        'REPORT_LEADER_UNAVAILABLE',
        code === '503'
          ? 'no kpi leader is running (a takeover may be in progress): try again in a few seconds'
          : `the kpi leader did not answer within ${this.timeoutMs} ms: follow the month with GET /api/reports/${month}`,
        { cause: err },
      );
    }
    const reply = JSON.parse(codec.decode(msg.data)) as Reply;
    if (reply.ok) return reply.result;
    const code = (reply.code in errorCatalogue ? reply.code : 'API_INTERNAL') as ErrorCode;
    throw new CityError(code, reply.message, reply.field !== undefined ? { field: reply.field } : {});
  }
}
