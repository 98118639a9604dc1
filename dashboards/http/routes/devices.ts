import { CityError } from '../../../core/errors.ts';
import type { SeriesStore } from '../../../core/ports/series-store.ts';
import { storedReadingsIn } from '../../../devices/device-life.ts';
import type { KindCatalogue } from '../../../devices/kind-catalogue.ts';
import type { DeviceRegistry, LifeChangeOptions } from '../../../devices/registry.ts';
import { type AnyRoute, defineRoute } from '../define-route.ts';
import type { Principal } from '../roles.ts';
import { deviceIdParams, toIso } from '../schemas/common.ts';
import {
  decommissionBodySchema,
  deviceLifeHistorySchema,
  deviceListQuerySchema,
  deviceListSchema,
  deviceSchema,
  latestSchema,
  passwordSchema,
  provisionBodySchema,
  provisionedSchema,
  toDeviceJson,
  toLifeChangeJson,
  updateBodySchema,
} from '../schemas/devices.ts';

interface DeviceRouteDeps {
  registry: DeviceRegistry;
  kinds: KindCatalogue;
  store: SeriesStore;
}

/** Devices: provisioning and administration (admin), listing and latest values (viewer). */
export function deviceRoutes(deps: DeviceRouteDeps): AnyRoute[] {
  const { registry, kinds, store } = deps;
  const requireDevice = (id: string) => {
    const record = registry.get(id);
    if (!record) throw new CityError('DEVICES_NOT_FOUND', `device ${id} is not registered`, { field: 'id' });
    return record;
  };
  /** Who changes an interval, and how the readings it would leave outside are counted. */
  const lifeOptions = (principal: Principal | null): LifeChangeOptions => ({
    by: `${principal?.name ?? 'unknown'} (${principal?.keyId ?? 'unknown'})`,
    storedReadings: (id, ranges) => {
      const kind = registry.kind(requireDevice(id).kind);
      return kind === undefined ? Promise.resolve(0) : storedReadingsIn(store, kind, id, ranges);
    },
  });
  return [
    defineRoute({
      method: 'post',
      path: '/api/devices',
      summary: 'Provision a device',
      description: 'Returns the MQTT password once; only its salted hash is kept.',
      tag: 'devices',
      access: 'admin',
      body: provisionBodySchema,
      status: 201,
      response: provisionedSchema,
      handle: async ({ body }) => {
        const { device, password } = await registry.provision(body);
        return { ...toDeviceJson(device), password };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/devices',
      summary: 'List devices',
      description: 'Filtered by kind, district, status, online state or a text in the id or name; paged.',
      tag: 'devices',
      access: 'viewer',
      query: deviceListQuerySchema,
      response: deviceListSchema,
      handle: ({ query }) => {
        const { items, total } = registry.list(query);
        return { items: items.map(toDeviceJson), total };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/devices/:id',
      summary: 'One device',
      tag: 'devices',
      access: 'viewer',
      params: deviceIdParams,
      response: deviceSchema,
      handle: ({ params }) => toDeviceJson(requireDevice(params.id)),
    }),
    defineRoute({
      method: 'patch',
      path: '/api/devices/:id',
      summary: 'Change name, district, location, attributes or the installed interval',
      description:
        'Attributes are merged; an attribute set to null is removed. A new installedAt or removedAt is ' +
        'recorded in the device history and restates the closed months it reaches; one that would leave ' +
        'stored readings outside the interval is refused (409 DEVICES_LIFE_EXCLUDES_READINGS) unless ' +
        '`force` is true.',
      tag: 'devices',
      access: 'admin',
      params: deviceIdParams,
      body: updateBodySchema,
      response: deviceSchema,
      handle: async ({ params, body, principal }) => {
        requireDevice(params.id);
        return toDeviceJson(await registry.update(params.id, body, lifeOptions(principal)));
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/devices/:id/decommission',
      summary: 'Decommission a device',
      description:
        'Its installed interval ends at `at` (default now); its credentials stop working and it is ' +
        'disconnected. The device, its readings and history stay, and it counts in the periods it was ' +
        'installed for. 409 when already removed.',
      tag: 'devices',
      access: 'admin',
      params: deviceIdParams,
      body: decommissionBodySchema,
      response: deviceSchema,
      handle: async ({ params, body, principal }) => {
        requireDevice(params.id);
        return toDeviceJson(await registry.decommission(params.id, body, lifeOptions(principal)));
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/devices/:id/life',
      summary: 'Installed interval and its history',
      description: 'Every change of installedAt and removedAt, oldest first: who, when, before and after.',
      tag: 'devices',
      access: 'viewer',
      params: deviceIdParams,
      response: deviceLifeHistorySchema,
      handle: async ({ params }) => {
        const device = requireDevice(params.id);
        return {
          deviceId: device.id,
          installedAt: toIso(device.installedAt),
          removedAt: device.removedAt === null ? null : toIso(device.removedAt),
          changes: (await registry.lifeHistory(device.id)).map(toLifeChangeJson),
        };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/devices/:id/rotate-password',
      summary: 'Issue a new MQTT password',
      description: 'The old password stops working at once and the device is disconnected.',
      tag: 'devices',
      access: 'admin',
      params: deviceIdParams,
      response: passwordSchema,
      handle: async ({ params }) => {
        requireDevice(params.id);
        return { id: params.id, password: await registry.rotatePassword(params.id) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/devices/:id/disable',
      summary: 'Disable a device',
      description: 'It is disconnected and refused until enabled again.',
      tag: 'devices',
      access: 'admin',
      params: deviceIdParams,
      response: deviceSchema,
      handle: async ({ params }) => {
        requireDevice(params.id);
        return toDeviceJson(await registry.disable(params.id));
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/devices/:id/enable',
      summary: 'Enable a disabled device',
      tag: 'devices',
      access: 'admin',
      params: deviceIdParams,
      response: deviceSchema,
      handle: async ({ params }) => {
        requireDevice(params.id);
        return toDeviceJson(await registry.enable(params.id));
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/api/devices/:id',
      summary: 'Delete a device that never stored a reading',
      description:
        'For a provisioning made by mistake: the device and its credentials are gone and a connected session is cut. ' +
        'A device with stored readings is refused (409 DEVICES_HAS_READINGS): decommission it, so that the KPIs of ' +
        'its periods stay right. Refused on the shared registry of a cluster (409 API_CONFLICT).',
      tag: 'devices',
      access: 'admin',
      params: deviceIdParams,
      status: 204,
      otherResponses: { 409: 'DEVICES_HAS_READINGS or API_CONFLICT' },
      handle: async ({ params }) => {
        requireDevice(params.id);
        await registry.remove(params.id, {
          hasReadings: async (id) => (await store.latest(id)).length > 0,
        });
        return undefined;
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/devices/:id/latest',
      summary: 'Newest value of each metric of a device',
      description: 'Newest by reading timestamp, not by arrival.',
      tag: 'devices',
      access: 'viewer',
      params: deviceIdParams,
      response: latestSchema,
      handle: async ({ params }) => {
        const device = requireDevice(params.id);
        const latest = await store.latest(device.id);
        const values = [...latest]
          .sort((a, b) => b.ts - a.ts || a.metric.localeCompare(b.metric))
          .map((v) => ({
            metric: v.metric,
            ts: toIso(v.ts),
            value: v.value,
            unit: kinds.metric(device.kind, v.metric)?.unit ?? null,
          }));
        return { deviceId: device.id, values };
      },
    }),
  ];
}
