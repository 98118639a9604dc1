import type { DeviceRecord } from '../core/ports/device-directory.ts';
import { type ListFilter, listFilterSchema, parseOrThrow } from './registry-schema.ts';

/**
 * Filtering and paging of the in-memory device records. A linear scan: for tens of thousands of devices it
 * takes a few milliseconds, far cheaper than keeping secondary indexes consistent.
 */

export interface ListResult {
  items: DeviceRecord[];
  /** How many devices match the filter, before paging. */
  total: number;
}

type ParsedFilter = ReturnType<typeof listFilterSchema.parse>;

/** A copy safe to hand out: nested location and attributes are frozen, so a shallow copy suffices. */
export const snapshot = (record: DeviceRecord): DeviceRecord => ({ ...record });

function matches(record: DeviceRecord, f: ParsedFilter, q: string | undefined): boolean {
  if (f.kind !== undefined && record.kind !== f.kind) return false;
  if (f.district !== undefined && record.district !== f.district) return false;
  if (f.status !== undefined && record.status !== f.status) return false;
  if (f.online !== undefined && record.online !== f.online) return false;
  if (q !== undefined && !record.id.includes(q) && !record.name.toLowerCase().includes(q)) return false;
  return true;
}

/** The page of `records` (already in the wanted order) that matches `filter`, as copies, and the total. */
export function pageDevices(records: Iterable<DeviceRecord>, filter: ListFilter): ListResult {
  const f = parseOrThrow(listFilterSchema, filter);
  const q = f.q?.toLowerCase();
  const items: DeviceRecord[] = [];
  let total = 0;
  for (const record of records) {
    if (!matches(record, f, q)) continue;
    if (total >= f.offset && items.length < f.limit) items.push(snapshot(record));
    total++;
  }
  return { items, total };
}

export function countDevices(
  entries: Iterable<{ record: DeviceRecord }>,
  filter: Omit<ListFilter, 'limit' | 'offset'>,
): number {
  const f = parseOrThrow(listFilterSchema, filter);
  const q = f.q?.toLowerCase();
  let n = 0;
  for (const { record } of entries) if (matches(record, f, q)) n++;
  return n;
}
