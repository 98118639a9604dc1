import { z } from 'zod';
import 'zod-openapi';

/**
 * Alert rules and alerts: the shapes the store keeps, the engine evaluates, the API validates and the live
 * page shows. One schema per rule kind, discriminated by `kind`.
 */

const metricName = z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, 'a metric name such as pm25');
const op = z
  .enum(['>', '<'])
  .meta({ description: 'the condition holds while the value is above (>) or below (<)' });
const label = z.string().trim().min(1).max(64);

/**
 * What keeps an alert from flapping when a value hovers around its threshold, unless a rule says otherwise:
 * it opens once the condition has held `forMinutes`, clears only once the value has been back past the
 * threshold by `clearMarginShare` of it (hysteresis) for `clearForMinutes`, and one that opens again within
 * `repeatWindowMinutes` of its clearing is the same alert once more (a repeat, counted), not a new one.
 */
export const ALERT_TIMING_DEFAULTS = Object.freeze({
  forMinutes: 5,
  clearForMinutes: 5,
  clearMarginShare: 0.05,
  repeatWindowMinutes: 60,
});

const WEEK_MINUTES = 7 * 24 * 60;
const clearMargin = z
  .number()
  .finite()
  .min(0)
  .optional()
  .meta({
    description: `hysteresis, in the metric's unit: an alert clears only once the value is this far back past the threshold (default ${ALERT_TIMING_DEFAULTS.clearMarginShare * 100} % of the threshold's size)`,
  });

const clearForMinutes = (
  description = 'how long the condition must stay false, by the clock, before an alert clears',
) => z.number().min(0).max(WEEK_MINUTES).default(ALERT_TIMING_DEFAULTS.clearForMinutes).meta({ description });

/** The clearing margin of a threshold rule: its own, else the default share of the threshold. */
export const clearMarginOf = (c: { value: number; clearMargin?: number | undefined }): number =>
  c.clearMargin ?? Math.abs(c.value) * ALERT_TIMING_DEFAULTS.clearMarginShare;

/** Whether a value is back past the threshold by the margin (where an active alert may clear). */
export function inClearZone(
  c: { op: '>' | '<'; value: number; clearMargin?: number | undefined },
  v: number,
): boolean {
  const margin = clearMarginOf(c);
  return c.op === '>' ? v <= c.value - margin : v >= c.value + margin;
}

export const seriesThresholdSchema = z
  .object({
    kind: z.literal('series-threshold'),
    scope: z.enum(['device', 'district', 'city']).meta({
      description:
        'device: each device on its own; district: the mean of the latest value of each device of the district; city: the same over the city',
    }),
    metric: metricName,
    op,
    value: z.number().finite(),
    forMinutes: z.number().min(0).max(WEEK_MINUTES).default(ALERT_TIMING_DEFAULTS.forMinutes).meta({
      description: 'how long the condition must hold, by reading timestamps, before an alert opens',
    }),
    clearForMinutes: clearForMinutes(
      'how long the value must stay back past the threshold and its margin, by reading timestamps, before an alert clears',
    ),
    clearMargin,
    district: label.optional().meta({ description: 'only this district (scope district or device)' }),
    device: z.string().max(64).optional().meta({ description: 'only this device (scope device)' }),
  })
  .strict();

export const kpiThresholdSchema = z
  .object({
    kind: z.literal('kpi-threshold'),
    code: z.string().min(1).max(64).meta({ description: 'KPI code or compact code' }),
    periodKind: z.enum(['month-to-date', 'year-to-date', 'rolling-12-months']).default('month-to-date'),
    op,
    value: z.number().finite(),
    clearMargin,
  })
  .strict();

export const staleDeviceSchema = z
  .object({
    kind: z.literal('stale-device'),
    deviceKind: z.string().max(64).optional().meta({ description: 'only devices of this kind' }),
    district: label.optional(),
    intervals: z
      .number()
      .int()
      .min(1)
      .max(10_000)
      .meta({ description: 'stale after this many of the kind’s reporting intervals without a reading' }),
  })
  .strict();

export const refusedSpikeSchema = z
  .object({
    kind: z.literal('refused-spike'),
    perMinute: z.number().int().min(1).meta({ description: 'refused messages in the last minute' }),
    clearForMinutes: clearForMinutes(),
  })
  .strict();

export const storeBacklogSchema = z
  .object({
    kind: z.literal('store-backlog'),
    values: z.number().int().min(1).meta({ description: 'values logged but not yet in the series store' }),
    clearForMinutes: clearForMinutes(),
  })
  .strict();

export const ruleConditionSchema = z.discriminatedUnion('kind', [
  seriesThresholdSchema,
  kpiThresholdSchema,
  staleDeviceSchema,
  refusedSpikeSchema,
  storeBacklogSchema,
]);

export const ruleInputSchema = z
  .object({
    name: z.string().trim().min(1).max(128),
    severity: z.enum(['info', 'warning', 'critical']).default('warning'),
    condition: ruleConditionSchema,
    webhookUrl: z
      .url({ protocol: /^https?$/ })
      .max(2048)
      .optional()
      .meta({ description: 'POSTed a JSON body when an alert of this rule opens and when it clears' }),
    enabled: z.boolean().default(true),
    repeatWindowMinutes: z
      .number()
      .int()
      .min(0)
      .max(WEEK_MINUTES)
      .default(ALERT_TIMING_DEFAULTS.repeatWindowMinutes)
      .meta({
        description:
          'an alert of the same subject that opens again within this many minutes of clearing is reopened as a repeat (counted), not a new alert; 0 = always a new alert',
      }),
  })
  .strict()
  .meta({ id: 'AlertRuleInput' });

export type RuleCondition = z.output<typeof ruleConditionSchema>;
export type RuleInput = z.input<typeof ruleInputSchema>;
export type SeriesThreshold = z.output<typeof seriesThresholdSchema>;
export type KpiThreshold = z.output<typeof kpiThresholdSchema>;
export type StaleDevice = z.output<typeof staleDeviceSchema>;

export interface AlertRule {
  id: string;
  name: string;
  severity: 'info' | 'warning' | 'critical';
  condition: RuleCondition;
  webhookUrl: string | null;
  enabled: boolean;
  /** A reopening within this many minutes of the clearing is a repeat of the same alert. */
  repeatWindowMinutes: number;
  createdBy: string;
  /** epoch ms */
  createdAt: number;
}

export const ALERT_STATES = ['open', 'acknowledged', 'cleared'] as const;
export type AlertState = (typeof ALERT_STATES)[number];

export interface Alert {
  id: string;
  ruleId: string;
  ruleName: string;
  severity: AlertRule['severity'];
  /** What the alert is about: a device id, a district, `city`, a KPI code, `store`, `ingest`. */
  subject: string;
  subjectKind: 'device' | 'district' | 'city' | 'kpi' | 'store' | 'ingest';
  message: string;
  /** The value that opened the alert, and the latest seen while it is active. */
  value: number | null;
  lastValue: number | null;
  state: AlertState;
  /** epoch ms: when it first opened */
  openedAt: number;
  /** Times it opened again within the rule's repeat window after clearing (0: never). */
  repeatCount: number;
  /** epoch ms: when it last opened (openedAt until it repeats) */
  lastOpenedAt: number;
  acknowledgedBy: string | null;
  acknowledgedAt: number | null;
  clearedAt: number | null;
  /** `condition` (resolved by itself), a key name (cleared by hand), or `rule deleted`. */
  clearedBy: string | null;
}

/** An active alert (open or acknowledged) is unique per rule and subject. */
export const isActive = (a: Pick<Alert, 'state'>): boolean => a.state !== 'cleared';
