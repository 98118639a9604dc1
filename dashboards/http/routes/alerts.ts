import { z } from 'zod';
import type { AlertService } from '../../../alerts/alert-service.ts';
import type { Alert, AlertRule } from '../../../alerts/alert-types.ts';
import { ruleConditionSchema, ruleInputSchema } from '../../../alerts/alert-types.ts';
import { type AnyRoute, defineRoute } from '../define-route.ts';
import { isoInstant, toIso, toIsoOrNull } from '../schemas/common.ts';

/**
 * Alerts and alert rules. Viewers read; operators acknowledge and clear alerts and manage the rules (running
 * the day-to-day watch is what the operator role is for).
 */

const idParams = z.object({ id: z.string().regex(/^[ar][0-9a-f]{12}$/, 'an alert or rule id') }).strict();

export const alertSchema = z
  .object({
    id: z.string(),
    ruleId: z.string(),
    ruleName: z.string(),
    severity: z.enum(['info', 'warning', 'critical']),
    subject: z.string().meta({ description: 'device id, district, city, KPI code, store or ingest' }),
    subjectKind: z.enum(['device', 'district', 'city', 'kpi', 'store', 'ingest']),
    message: z.string(),
    value: z.number().nullable().meta({ description: 'the value that opened the alert' }),
    lastValue: z.number().nullable(),
    state: z.enum(['open', 'acknowledged', 'cleared']),
    openedAt: isoInstant.meta({ description: 'when it first opened' }),
    repeatCount: z.number().int().min(0).meta({
      description: "times it opened again within the rule's repeat window after clearing",
    }),
    lastOpenedAt: isoInstant.meta({ description: 'when it last opened (openedAt until it repeats)' }),
    acknowledgedBy: z.string().nullable(),
    acknowledgedAt: isoInstant.nullable(),
    clearedAt: isoInstant.nullable(),
    clearedBy: z.string().nullable().meta({ description: '`condition` when it resolved by itself' }),
  })
  .meta({ id: 'Alert' });

export const alertRuleSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    severity: z.enum(['info', 'warning', 'critical']),
    condition: ruleConditionSchema,
    webhookUrl: z.string().nullable(),
    enabled: z.boolean(),
    repeatWindowMinutes: z.number().int().min(0),
    createdBy: z.string(),
    createdAt: isoInstant,
  })
  .meta({ id: 'AlertRule' });

const alertListQuery = z
  .object({
    state: z.enum(['open', 'acknowledged', 'cleared', 'active']).optional().meta({
      description: 'active = open or acknowledged',
    }),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    offset: z.coerce.number().int().min(0).default(0),
  })
  .strict();

export const toAlertJson = (a: Alert) => ({
  ...a,
  openedAt: toIso(a.openedAt),
  lastOpenedAt: toIso(a.lastOpenedAt),
  acknowledgedAt: toIsoOrNull(a.acknowledgedAt),
  clearedAt: toIsoOrNull(a.clearedAt),
});

const toRuleJson = (r: AlertRule) => ({ ...r, createdAt: toIso(r.createdAt) });

export function alertRoutes(deps: { alerts: AlertService }): AnyRoute[] {
  const { alerts } = deps;
  return [
    defineRoute({
      method: 'get',
      path: '/api/alerts',
      summary: 'List alerts',
      description: 'Newest first, filtered by state; paged.',
      tag: 'alerts',
      access: 'viewer',
      query: alertListQuery,
      response: z.object({ items: z.array(alertSchema), total: z.number().int() }).meta({ id: 'AlertList' }),
      handle: async ({ query }) => {
        const { items, total } = await alerts.list(query);
        return { items: items.map(toAlertJson), total };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/alerts/:id/acknowledge',
      summary: 'Acknowledge an open alert',
      description: 'Records who and when. 409 API_CONFLICT if it is not open.',
      tag: 'alerts',
      access: 'operator',
      params: idParams,
      response: alertSchema,
      handle: async ({ params, principal }) =>
        toAlertJson(await alerts.acknowledge(params.id, principal?.name ?? '?')),
    }),
    defineRoute({
      method: 'post',
      path: '/api/alerts/:id/clear',
      summary: 'Clear an active alert by hand',
      description: 'If the condition still holds, the rule opens a new alert at its next evaluation.',
      tag: 'alerts',
      access: 'operator',
      params: idParams,
      response: alertSchema,
      handle: async ({ params, principal }) =>
        toAlertJson(await alerts.clear(params.id, principal?.name ?? '?')),
    }),
    defineRoute({
      method: 'get',
      path: '/api/alert-rules',
      summary: 'List alert rules',
      tag: 'alerts',
      access: 'viewer',
      response: z.object({ items: z.array(alertRuleSchema) }).meta({ id: 'AlertRuleList' }),
      handle: async () => ({ items: (await alerts.rules()).map(toRuleJson) }),
    }),
    defineRoute({
      method: 'post',
      path: '/api/alert-rules',
      summary: 'Create an alert rule',
      tag: 'alerts',
      access: 'operator',
      body: ruleInputSchema,
      status: 201,
      response: alertRuleSchema,
      handle: async ({ body, principal }) =>
        toRuleJson(await alerts.createRule(body, principal?.name ?? '?')),
    }),
    defineRoute({
      method: 'delete',
      path: '/api/alert-rules/:id',
      summary: 'Delete an alert rule',
      description: 'Its active alerts are cleared.',
      tag: 'alerts',
      access: 'operator',
      params: idParams,
      status: 204,
      handle: async ({ params, principal }) => {
        await alerts.deleteRule(params.id, principal?.name ?? '?');
        return undefined;
      },
    }),
  ];
}
