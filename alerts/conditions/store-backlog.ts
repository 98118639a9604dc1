/**
 * The store backlog a store-backlog rule watches: values acknowledged and not yet in the series store, as
 * ingest reports them. A source without one (a cluster's kpi node: the writers hold the backlog) is 0.
 */
export function storeBacklogOf(ingest: { stats(): { backlog?: unknown } }): number {
  const raw = ingest.stats().backlog;
  return typeof raw === 'number' && Number.isFinite(raw) ? raw : 0;
}
