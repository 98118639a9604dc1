import type { DeviceRecord } from '../../core/ports/device-directory.ts';
import type { LatestValue, SeriesStore } from '../../core/ports/series-store.ts';
import type { KindCatalogue } from '../../devices/kind-catalogue.ts';
import { type Attribute, type Entity, instant, property } from './entity.ts';
import { type DeviceModel, entityUrn, modelOfKind } from './mapping.ts';

export interface DeviceEntityDeps {
  store: SeriesStore;
  kinds: KindCatalogue;
  cityName: string;
}

/**
 * The observation entities of the given devices, built from each device's newest value per metric. A device
 * with no mapped value yet, or without a position where its model requires one, has no entity: the models
 * require the observation's date (and AirQualityObserved, NoiseLevelObserved a location), and an entity
 * without them would not be valid.
 */
export async function deviceEntities(
  deps: DeviceEntityDeps,
  devices: readonly DeviceRecord[],
  now: number,
): Promise<Entity[]> {
  const registers = await waterRegisters(
    deps.store,
    devices.filter((d) => modelOfKind(d.kind)?.type === 'WaterConsumptionObserved'),
    now,
  );
  const out: Entity[] = [];
  for (const device of devices) {
    const model = modelOfKind(device.kind);
    if (model === undefined || (model.requiresLocation && device.location === null)) continue;
    const entity = toEntity(
      deps,
      model,
      device,
      await deps.store.latest(device.id),
      registers.get(device.id),
    );
    if (entity !== null) out.push(entity);
  }
  return out;
}

function toEntity(
  deps: DeviceEntityDeps,
  model: DeviceModel,
  device: DeviceRecord,
  latest: readonly LatestValue[],
  register: number | undefined,
): Entity | null {
  const attributes: Record<string, Attribute> = {};
  let newest = -Infinity;
  let oldest = Infinity;
  for (const v of latest) {
    const mapping = model.metrics[v.metric];
    if (mapping === undefined) continue;
    const value = v.metric === 'volume' && model.type === 'WaterConsumptionObserved' ? register : v.value;
    if (value === undefined) continue;
    attributes[mapping.attribute] = property(mapping.scale === undefined ? value : value * mapping.scale, {
      observedAt: v.ts,
      ...(mapping.unitCode ? { unitCode: mapping.unitCode } : {}),
    });
    newest = Math.max(newest, v.ts);
    oldest = Math.min(oldest, v.ts);
  }
  if (newest === -Infinity) return null;

  if (model.dating === 'instant') attributes.dateObserved = instant(newest);
  else if (model.dating === 'interval') {
    // A reading covers the kind's reporting interval and is stamped at its end (the meter reports what
    // it measured since the last report): the period runs from one interval before the oldest value.
    const intervalMs = (deps.kinds.get(device.kind)?.intervalSec ?? 0) * 1000;
    const from = oldest - intervalMs;
    attributes.dateObservedFrom = instant(from);
    attributes.dateObservedTo = instant(newest);
    attributes.dateObserved = property(`${new Date(from).toISOString()}/${new Date(newest).toISOString()}`);
  } else attributes.dateModified = instant(newest);

  attributes.name = property(device.name);
  attributes.areaServed = property(device.district);
  attributes.address = property({ addressLocality: deps.cityName, district: device.district });
  if (device.location !== null)
    attributes.location = {
      type: 'GeoProperty',
      value: { type: 'Point', coordinates: [device.location.lon, device.location.lat] },
    };
  attributes.dataProvider = property('citymetrics');
  return { id: entityUrn(model.type, device.id), type: model.type, district: device.district, attributes };
}

/**
 * The register of each water meter: the sum of every interval volume it has reported, in whole m³
 * (the model's `waterConsumption` is an integer). It starts at 0 when the meter first reported to the
 * platform, not at the meter's own index, and covers what the store still keeps (the day roll-ups).
 */
async function waterRegisters(
  store: SeriesStore,
  meters: readonly DeviceRecord[],
  now: number,
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (meters.length === 0) return out;
  // A day past now: readings may be stamped slightly ahead of the platform clock.
  const range = { metric: 'volume', from: 0, to: now + 86_400_000 };
  if (store.aggregateByDevice !== undefined && meters.length > 1) {
    const byDevice = await store.aggregateByDevice({ ...range, kind: 'water-smart-meter' });
    for (const m of meters) {
      const b = byDevice.get(m.id);
      if (b !== undefined) out.set(m.id, Math.round(b.sum));
    }
    return out;
  }
  for (const m of meters) {
    const b = await store.aggregate({ ...range, scope: { device: m.id } });
    if (b !== null) out.set(m.id, Math.round(b.sum));
  }
  return out;
}
