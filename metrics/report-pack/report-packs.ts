import { rm } from 'node:fs/promises';
import type { Clock } from '../../core/clock.ts';
import { CityError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { PlatformEvents, RollupSaved } from '../../core/platform-events.ts';
import type { ExportInput } from '../rollup-exports.ts';
import { buildPack, type ReportPack } from './build-pack.ts';
import type { DeliveryTarget } from './delivery-target.ts';
import { FolderTarget } from './folder-target.ts';
import type { DeliveryRecord, DeliveryTrigger, ReportRecords } from './report-records.ts';
import {
  isMonth,
  type MonthReport,
  monthReport,
  type ReportService,
  requireMonth,
  type SentPack,
} from './report-service.ts';
import { type RetrySettings, retryDelivery } from './retry-delivery.ts';

/** What the packs are made from: the frozen roll-ups (metrics/kpi-service.ts, metrics/kpi-store.ts). */
export interface PackSource {
  /** The export input of a frozen version of a month, or null when that version does not exist. */
  exportInput(month: string, version: number): Promise<ExportInput | null>;
  /** The newest frozen version of a month, or null when the month is not closed. */
  latestVersion(month: string): number | null;
  /** Closed months with their newest version and when it was frozen (epoch ms). */
  closedMonths(): Array<{ month: string; version: number; frozenAt: number }>;
  /**
   * Calls `listener` when another node froze a version (records shared in a cluster: a month closed or
   * restated through an api node); returns the way to stop.
   */
  onExternalChange?(listener: () => void): () => void;
}

export interface ReportPacksDeps {
  source: PackSource;
  store: ReportRecords;
  targets: readonly DeliveryTarget[];
  events: PlatformEvents;
  clock: Clock;
  logger: Logger;
}

export type { MonthReport } from './report-service.ts';

/**
 * The monthly report pack: when a month closes or a closed month is restated (the `rollup-saved` event,
 * or a version another node froze on shared records), its pack is built once (CSV, XLSX, JSON, printable
 * HTML snapshot, consistency report, manifest) and delivered to every configured target, each target in
 * its own lane so a dead webhook never holds up the folder. Every step is in the durable record first: a
 * pack owed but not built, and every delivery not yet delivered, is taken up again at the next start (in a
 * cluster, by the kpi node that leads next).
 */
export class ReportPacks implements ReportService {
  private readonly log: Logger;
  private readonly abort = new AbortController();
  /** builds and sends on demand, one at a time (a pack is built once) */
  private work: Promise<unknown> = Promise.resolve();
  private readonly lanes = new Map<string, Promise<unknown>>();
  private started = false;
  private stopFollowing: (() => void) | null = null;
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
    if (this.deps.targets.length > 0)
      this.stopFollowing = this.deps.source.onExternalChange?.(this.onExternalChange) ?? null;
    for (const t of this.deps.targets)
      if (t instanceof FolderTarget)
        for (const dir of await t.leftovers()) await rm(dir, { recursive: true, force: true });
    if (this.deps.targets.length > 0) await this.catchUp('catch-up');
    this.enqueue(() => this.buildOwed());
    for (const d of await this.deps.store.pending()) this.schedule(d);
  }

  /**
   * Versions frozen since the record began whose pack was never asked for: a crash between the roll-up
   * commit and the event, or a version another node froze. Older months are not packed by themselves
   * (turning a target on does not post two years of packs); send them on demand.
   */
  private async catchUp(trigger: DeliveryTrigger | 'as-frozen'): Promise<void> {
    const { store, source, clock } = this.deps;
    const since = await store.createdAt();
    for (const m of source.closedMonths()) {
      if (!isMonth(m.month) || m.frozenAt < since || (await store.hasPack(m.month, m.version))) continue;
      const why = trigger === 'as-frozen' ? (m.version === 1 ? 'closed' : 'restated') : trigger;
      await store.owe(m.month, m.version, why, clock.now());
    }
  }

  /** Event listener: cheap and never throws (it runs inside the month close). */
  private readonly onRollupSaved = (e: RollupSaved): void => {
    if (!isMonth(e.period) || this.closed !== null) return;
    if (this.deps.targets.length === 0) {
      this.log.debug({ month: e.period, version: e.version }, 'no report target configured: no pack');
      return;
    }
    // Called now: on SQLite the owed row is on disk before the close goes on.
    const owed = this.deps.store
      .owe(e.period, e.version, e.cause === 'closed' ? 'closed' : 'restated', e.at)
      .catch((err: unknown) =>
        this.log.error(
          { err, month: e.period, version: e.version },
          'report pack could not be recorded as owed (the next catch-up owes it)',
        ),
      );
    this.enqueue(async () => {
      await owed;
      await this.buildOwed();
    });
  };

  /** Shared records changed under us: what another node froze is owed here, as it was frozen. */
  private readonly onExternalChange = (): void => {
    if (this.closed !== null) return;
    this.enqueue(async () => {
      await this.catchUp('as-frozen');
      await this.buildOwed();
    });
  };

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.work.then(task, task);
    this.work = run.catch((err: unknown) => this.log.error({ err }, 'report pack work failed'));
    return run;
  }

  private async buildOwed(): Promise<void> {
    const { store, source } = this.deps;
    for (const o of await store.owed()) {
      if (this.abort.signal.aborted) return;
      // built meanwhile by a send on demand, or by another node: nothing more is owed
      if (await store.hasPack(o.month, o.version)) {
        await store.dropOwed(o.month, o.version);
        continue;
      }
      const input = await source.exportInput(o.month, o.version);
      if (input === null) {
        this.log.warn(
          { month: o.month, version: o.version },
          'owed report pack dropped: the roll-up version is gone',
        );
        await store.dropOwed(o.month, o.version);
        continue;
      }
      const pack = await buildPack(input);
      await this.saveAndSchedule(pack, o.trigger);
    }
  }

  private async saveAndSchedule(
    pack: ReportPack,
    trigger: DeliveryTrigger,
  ): Promise<DeliveryRecord[] | null> {
    const deliveries = await this.deps.store.savePack(
      pack,
      this.targetRefs(),
      trigger,
      this.deps.clock.now(),
    );
    if (deliveries === null) {
      this.log.info({ month: pack.month, version: pack.version }, 'report pack stored by another node first');
      return null;
    }
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

  private targetRefs() {
    return this.deps.targets.map((t) => ({ target: t.kind, destination: t.destination }));
  }

  /**
   * Delivers the newest version of a closed month now, to every target: the pack already built when there is
   * one (the same bytes and hashes), built otherwise. Answers once the deliveries are recorded; they run on.
   */
  async send(label: string): Promise<SentPack> {
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
      const { store, clock } = this.deps;
      for (;;) {
        const stored = await store.pack(month, version);
        if (stored !== null) {
          const deliveries = await store.addDeliveries(stored, this.targetRefs(), 'manual', clock.now());
          for (const d of deliveries) this.schedule(d);
          return { manifest: stored.manifest, deliveries };
        }
        const input = await this.deps.source.exportInput(month, version);
        if (input === null) throw new CityError('REPORT_MONTH_NOT_CLOSED', `${month} v${version} is gone`);
        const pack = await buildPack(input);
        const deliveries = await this.saveAndSchedule(pack, 'manual');
        // stored by another node meanwhile: deliver that one, the bytes the record holds
        if (deliveries !== null) return { manifest: pack.manifest, deliveries };
      }
    });
  }

  list(limit = 200): Promise<DeliveryRecord[]> {
    return this.deps.store.deliveries({ limit });
  }

  month(label: string): Promise<MonthReport> {
    return monthReport(this.deps.store, (m) => this.deps.source.latestVersion(m), label);
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
    const fresh = await store.delivery(d.id);
    if (fresh === null || fresh.state !== 'pending') return;
    if (target === undefined) {
      await store.markFailed(d.id, clock.now(), {
        code: 'REPORT_NO_TARGET',
        message: `the ${d.target} target is no longer configured`,
      });
      return;
    }
    const pack = await store.pack(d.month, d.version);
    if (pack === null) {
      await store.markFailed(d.id, clock.now(), {
        code: 'REPORT_UNKNOWN_MONTH',
        message: 'the pack is not in the record',
      });
      return;
    }
    const log = this.log.child({ delivery: d.id, month: d.month, version: d.version, target: d.target });
    // Failures are recorded in order, each before the next attempt's outcome.
    let recorded: Promise<unknown> = Promise.resolve();
    const outcome = await retryDelivery({
      attempt: () => target.deliver(pack, d.id, this.abort.signal),
      attemptsBefore: fresh.attempts,
      settings: this.retry,
      signal: this.abort.signal,
      onFailure: (error, final) => {
        recorded = recorded
          .then(() =>
            store.recordFailure(
              d.id,
              clock.now(),
              { code: 'REPORT_DELIVERY_FAILED', message: error.message },
              final,
            ),
          )
          .catch((err: unknown) => log.warn({ err }, 'report delivery failure not recorded'));
        if (final) log.error({ err: error.message }, 'report delivery failed for good');
        else log.warn({ err: error.message }, 'report delivery failed: retrying');
      },
    });
    await recorded;
    if (outcome === 'delivered') {
      if (await store.recordDelivered(d.id, clock.now())) log.info({}, 'report pack delivered');
      else log.info({}, 'report pack delivered, already recorded as delivered by another node');
    } else if (outcome === 'failed' && (await store.delivery(d.id))?.state === 'pending')
      await store.markFailed(d.id, clock.now(), {
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
      this.stopFollowing?.();
      this.abort.abort(new CityError('REPORT_DELIVERY_FAILED', 'the platform is stopping'));
      await this.drain();
      const pending = await this.deps.store
        .pending()
        .then((p) => p.length)
        .catch(() => 0);
      if (pending > 0) this.log.warn({ pending }, 'report deliveries left pending for the next start');
      await this.deps.store.close();
      return { pending };
    })();
    return this.closed;
  }
}
