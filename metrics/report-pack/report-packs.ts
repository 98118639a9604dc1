import { rm } from 'node:fs/promises';
import type { Clock } from '../../core/clock.ts';
import { CityError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { PlatformEvents, RollupSaved } from '../../core/platform-events.ts';
import type { ExportInput } from '../rollup-exports.ts';
import { buildPack, type ReportPack } from './build-pack.ts';
import type { DeliveryRecord, DeliveryStore, DeliveryTrigger, PackRecord } from './delivery-store.ts';
import type { DeliveryTarget } from './delivery-target.ts';
import { FolderTarget } from './folder-target.ts';
import type { PackManifest } from './pack-manifest.ts';
import { type RetrySettings, retryDelivery } from './retry-delivery.ts';

/** What the packs are made from: the frozen roll-ups (metrics/kpi-service.ts, metrics/kpi-store.ts). */
export interface PackSource {
  /** The export input of a frozen version of a month, or null when that version does not exist. */
  exportInput(month: string, version: number): Promise<ExportInput | null>;
  /** The newest frozen version of a month, or null when the month is not closed. */
  latestVersion(month: string): number | null;
  /** Closed months with their newest version and when it was frozen (epoch ms). */
  closedMonths(): Array<{ month: string; version: number; frozenAt: number }>;
}

export interface ReportPacksDeps {
  source: PackSource;
  store: DeliveryStore;
  targets: readonly DeliveryTarget[];
  events: PlatformEvents;
  clock: Clock;
  logger: Logger;
}

export interface MonthReport {
  month: string;
  /** newest frozen roll-up version, null when the month is not closed */
  closedVersion: number | null;
  pack: (PackRecord & { manifest: PackManifest }) | null;
  deliveries: DeliveryRecord[];
}

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

export function requireMonth(label: string): string {
  if (!MONTH.test(label))
    throw new CityError('REPORT_MONTH_INVALID', `not a month (YYYY-MM): ${label.slice(0, 40)}`, {
      field: 'month',
    });
  return label;
}

/**
 * The monthly report pack: when a month closes or a closed month is restated (the `rollup-saved` event),
 * its pack is built once (CSV, XLSX, JSON, printable HTML snapshot, consistency report, manifest) and
 * delivered to every configured target, each target in its own lane so a dead webhook never holds up the
 * folder. Every step is in the durable record first (reports.db): a pack owed but not built, and every
 * delivery not yet delivered, is taken up again at the next start.
 */
export class ReportPacks {
  private readonly log: Logger;
  private readonly abort = new AbortController();
  /** builds and sends on demand, one at a time (a pack is built once) */
  private work: Promise<unknown> = Promise.resolve();
  private readonly lanes = new Map<string, Promise<unknown>>();
  private started = false;
  private closed: Promise<{ pending: number }> | null = null;

  constructor(
    private readonly deps: ReportPacksDeps,
    private readonly retry: RetrySettings,
  ) {
    this.log = deps.logger.child({ component: 'report-packs' });
  }

  get targets(): ReadonlyArray<{ kind: string; destination: string }> {
    return this.deps.targets.map((t) => ({ kind: t.kind, destination: t.destination }));
  }

  /** Listens for closes and restatements, then takes up what the last run left: owed packs, pending deliveries. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.deps.events.on('rollup-saved', this.onRollupSaved);
    for (const t of this.deps.targets)
      if (t instanceof FolderTarget)
        for (const dir of await t.leftovers()) await rm(dir, { recursive: true, force: true });
    if (this.deps.targets.length > 0) this.catchUp();
    this.enqueue(() => this.buildOwed());
    for (const d of this.deps.store.pending()) this.schedule(d);
  }

  /**
   * Versions frozen since the record began whose pack was never asked for: a crash between the roll-up
   * commit and the event. Older months are not packed by themselves (turning a target on does not post two
   * years of packs); send them on demand.
   */
  private catchUp(): void {
    const since = this.deps.store.createdAt();
    for (const m of this.deps.source.closedMonths()) {
      if (!MONTH.test(m.month) || m.frozenAt < since || this.deps.store.hasPack(m.month, m.version)) continue;
      this.deps.store.owe(m.month, m.version, 'catch-up', this.deps.clock.now());
    }
  }

  /** Event listener: cheap and never throws (it runs inside the month close). */
  private readonly onRollupSaved = (e: RollupSaved): void => {
    if (!MONTH.test(e.period) || this.closed !== null) return;
    if (this.deps.targets.length === 0) {
      this.log.debug({ month: e.period, version: e.version }, 'no report target configured: no pack');
      return;
    }
    try {
      this.deps.store.owe(e.period, e.version, e.cause === 'closed' ? 'closed' : 'restated', e.at);
      this.enqueue(() => this.buildOwed());
    } catch (err) {
      this.log.error(
        { err, month: e.period, version: e.version },
        'report pack could not be recorded as owed',
      );
    }
  };

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.work.then(task, task);
    this.work = run.catch((err: unknown) => this.log.error({ err }, 'report pack work failed'));
    return run;
  }

  private async buildOwed(): Promise<void> {
    for (const o of this.deps.store.owed()) {
      if (this.abort.signal.aborted) return;
      // built meanwhile by a send on demand: nothing more is owed
      if (this.deps.store.hasPack(o.month, o.version)) {
        this.deps.store.dropOwed(o.month, o.version);
        continue;
      }
      const input = await this.deps.source.exportInput(o.month, o.version);
      if (input === null) {
        this.log.warn(
          { month: o.month, version: o.version },
          'owed report pack dropped: the roll-up version is gone',
        );
        this.deps.store.dropOwed(o.month, o.version);
        continue;
      }
      const pack = await buildPack(input);
      this.saveAndSchedule(pack, o.trigger);
    }
  }

  private saveAndSchedule(pack: ReportPack, trigger: DeliveryTrigger): DeliveryRecord[] {
    const deliveries = this.deps.store.savePack(
      pack,
      this.deps.targets.map((t) => ({ target: t.kind, destination: t.destination })),
      trigger,
      this.deps.clock.now(),
    );
    this.log.info(
      {
        month: pack.month,
        version: pack.version,
        status: pack.manifest.status,
        deliveries: deliveries.length,
      },
      'report pack built',
    );
    for (const d of deliveries) this.schedule(d);
    return deliveries;
  }

  /**
   * Delivers the newest version of a closed month now, to every target: the pack already built when there is
   * one (the same bytes and hashes), built otherwise. Answers once the deliveries are recorded; they run on.
   */
  send(label: string): Promise<{ manifest: PackManifest; deliveries: DeliveryRecord[] }> {
    const month = requireMonth(label);
    if (this.deps.targets.length === 0)
      throw new CityError(
        'REPORT_NO_TARGET',
        'set REPORT_DIR or REPORT_WEBHOOK_URL (with REPORT_WEBHOOK_SECRET)',
      );
    const version = this.deps.source.latestVersion(month);
    if (version === null)
      throw new CityError('REPORT_MONTH_NOT_CLOSED', `${month} is not closed`, { field: 'month' });
    return this.enqueue(async () => {
      const stored = this.deps.store.pack(month, version);
      if (stored !== null) {
        const deliveries = this.deps.store.addDeliveries(
          stored,
          this.deps.targets.map((t) => ({ target: t.kind, destination: t.destination })),
          'manual',
          this.deps.clock.now(),
        );
        for (const d of deliveries) this.schedule(d);
        return { manifest: stored.manifest, deliveries };
      }
      const input = await this.deps.source.exportInput(month, version);
      if (input === null) throw new CityError('REPORT_MONTH_NOT_CLOSED', `${month} v${version} is gone`);
      const pack = await buildPack(input);
      return { manifest: pack.manifest, deliveries: this.saveAndSchedule(pack, 'manual') };
    });
  }

  /** Deliveries, newest first. */
  list(limit = 200): DeliveryRecord[] {
    return this.deps.store.deliveries({ limit });
  }

  /** A month's newest pack and its deliveries; REPORT_UNKNOWN_MONTH when it has neither a pack nor a close. */
  month(label: string): MonthReport {
    const month = requireMonth(label);
    const closedVersion = this.deps.source.latestVersion(month);
    const latest = this.deps.store.latestPack(month);
    const deliveries = this.deps.store.deliveries({ month });
    if (closedVersion === null && latest === null && deliveries.length === 0)
      throw new CityError('REPORT_UNKNOWN_MONTH', `${month} has no report pack and is not closed`, {
        field: 'month',
      });
    const pack = latest === null ? null : this.deps.store.pack(latest.month, latest.version);
    return {
      month,
      closedVersion,
      pack: latest === null || pack === null ? null : { ...latest, manifest: pack.manifest },
      deliveries,
    };
  }

  private schedule(d: DeliveryRecord): void {
    const lane = this.lanes.get(d.target) ?? Promise.resolve();
    const next = lane
      .then(() => this.run(d))
      .catch((err: unknown) => {
        this.log.error({ err, delivery: d.id }, 'report delivery failed unexpectedly');
      });
    this.lanes.set(d.target, next);
  }

  private async run(d: DeliveryRecord): Promise<void> {
    const { store, clock } = this.deps;
    if (this.abort.signal.aborted) return;
    const target = this.deps.targets.find((t) => t.kind === d.target);
    const fresh = store.delivery(d.id);
    if (fresh === null || fresh.state !== 'pending') return;
    if (target === undefined) {
      store.markFailed(d.id, clock.now(), {
        code: 'REPORT_NO_TARGET',
        message: `the ${d.target} target is no longer configured`,
      });
      return;
    }
    const pack = store.pack(d.month, d.version);
    if (pack === null) {
      store.markFailed(d.id, clock.now(), {
        code: 'REPORT_UNKNOWN_MONTH',
        message: 'the pack is not in the record',
      });
      return;
    }
    const log = this.log.child({ delivery: d.id, month: d.month, version: d.version, target: d.target });
    const outcome = await retryDelivery({
      attempt: () => target.deliver(pack, d.id, this.abort.signal),
      attemptsBefore: fresh.attempts,
      settings: this.retry,
      signal: this.abort.signal,
      onFailure: (error, final) => {
        store.recordFailure(
          d.id,
          clock.now(),
          { code: 'REPORT_DELIVERY_FAILED', message: error.message },
          final,
        );
        if (final) log.error({ err: error.message }, 'report delivery failed for good');
        else log.warn({ err: error.message }, 'report delivery failed: retrying');
      },
    });
    if (outcome === 'delivered') {
      store.recordDelivered(d.id, clock.now());
      log.info({}, 'report pack delivered');
    } else if (outcome === 'failed' && store.delivery(d.id)?.state === 'pending')
      store.markFailed(d.id, clock.now(), {
        code: 'REPORT_DELIVERY_FAILED',
        message: `no attempt left (REPORT_RETRY_MAX ${this.retry.retries})`,
      });
  }

  /** Resolves once nothing is being built or delivered (tests, and the CLI's wait). */
  async drain(): Promise<void> {
    const inFlight = () => [this.work, ...this.lanes.values()];
    for (;;) {
      const before = inFlight();
      await Promise.all(before);
      const after = inFlight();
      if (after.length === before.length && after.every((p, i) => p === before[i])) return;
    }
  }

  /**
   * Stops: back-offs and requests in flight are cut, what was not delivered stays pending in the record for the
   * next start. Reports how many deliveries are left pending.
   */
  close(): Promise<{ pending: number }> {
    this.closed ??= (async () => {
      this.deps.events.off('rollup-saved', this.onRollupSaved);
      this.abort.abort(new CityError('REPORT_DELIVERY_FAILED', 'the platform is stopping'));
      await this.drain();
      const pending = this.deps.store.pending().length;
      if (pending > 0) this.log.warn({ pending }, 'report deliveries left pending for the next start');
      this.deps.store.close();
      return { pending };
    })();
    return this.closed;
  }
}
