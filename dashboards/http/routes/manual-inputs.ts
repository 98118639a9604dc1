import type { Request } from 'express';
import { z } from 'zod';
import { CityError } from '../../../core/errors.ts';
import { MANUAL_SHEET_MAX_BYTES, manualSheetTemplate } from '../../../metrics/exports/index.ts';
import type { KpiService } from '../../../metrics/kpi-service.ts';
import { FORMULA_INPUTS } from '../../../metrics/manual-validation.ts';
import { type AnyRoute, defineRoute } from '../define-route.ts';
import { inputBodySchema, inputNameParams, manualRecordSchema, toIsoRecord } from '../schemas/kpis.ts';
import { byPrincipal } from './kpis.ts';

const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

const templateQuerySchema = z.object({ format: z.enum(['csv', 'xlsx']).default('csv') }).strict();

export const manualListQuerySchema = z
  .object({
    subjectType: z.enum(['kpi', 'input']).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    offset: z.coerce.number().int().min(0).default(0),
  })
  .strict();

/** Reads a raw request body (the JSON parser leaves other content types unread), bounded. */
export async function readRawBody(req: Request, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new CityError('API_BODY_TOO_LARGE', `request body exceeds ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Manual values in bulk (CSV/XLSX sheet) and the formula inputs (majorStreetKm...). */
export function manualInputRoutes(deps: { kpis: KpiService }): AnyRoute[] {
  const { kpis } = deps;
  return [
    defineRoute({
      method: 'get',
      path: '/api/manual-inputs',
      summary: 'Current manual values',
      description:
        'The entries in force (a later entry for the same KPI, data point and period supersedes an earlier one), newest first, paged.',
      tag: 'kpis',
      access: 'viewer',
      query: manualListQuerySchema,
      response: z
        .object({
          items: z.array(manualRecordSchema),
          total: z.number().int().meta({ description: 'entries before paging' }),
        })
        .meta({ id: 'ManualValueList' }),
      handle: ({ query }) => {
        const all = kpis.deps.kpiStore
          .currentManualValues(query.subjectType)
          .sort((a, b) => b.enteredAt - a.enteredAt || b.id - a.id);
        return {
          items: all.slice(query.offset, query.offset + query.limit).map(toIsoRecord),
          total: all.length,
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/manual-inputs/template',
      summary: 'The import sheet template',
      description:
        'The header, one example row and the KPIs entered by hand with their units and data points (CSV: as # lines; XLSX: on the second sheet).',
      tag: 'kpis',
      access: 'viewer',
      query: templateQuerySchema,
      responseContent: { 'text/csv': { schema: z.string() }, [XLSX_TYPE]: { schema: z.string() } },
      handle: async ({ query, res }) => {
        const body = query.format === 'csv' ? manualSheetTemplate('csv') : await manualSheetTemplate('xlsx');
        res.set('content-type', query.format === 'csv' ? 'text/csv; charset=utf-8' : XLSX_TYPE);
        res.set('content-disposition', `attachment; filename="manual-inputs-template.${query.format}"`);
        res.status(200).send(body);
        return undefined;
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/manual-inputs/import',
      summary: 'Import a sheet of manual values',
      description: `Raw body, content type text/csv or ${XLSX_TYPE}: one row per KPI or data point. All or nothing: errors name the row and column (METRICS_IMPORT_INVALID, details.errors).`,
      tag: 'kpis',
      access: 'analyst',
      status: 201,
      response: z.object({ imported: z.number().int(), items: z.array(manualRecordSchema) }),
      handle: async ({ req, principal }) => {
        const type = (req.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
        const format = type === 'text/csv' ? 'csv' : type === XLSX_TYPE ? 'xlsx' : null;
        if (format === null)
          throw new CityError('API_VALIDATION', `content type must be text/csv or ${XLSX_TYPE}`, {
            field: 'content-type',
          });
        const buffer = await readRawBody(req, MANUAL_SHEET_MAX_BYTES);
        const added = await kpis.importSheet(buffer, format, byPrincipal(principal));
        return { imported: added.length, items: added.map(toIsoRecord) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/inputs',
      summary: 'Formula inputs and their current entries',
      tag: 'kpis',
      access: 'viewer',
      response: z.object({ items: z.array(z.looseObject({ name: z.string(), unit: z.string() })) }),
      handle: () => {
        const entries = kpis.deps.kpiStore.currentManualValues('input');
        return {
          items: Object.entries(FORMULA_INPUTS).map(([name, spec]) => ({
            name,
            ...spec,
            entries: entries.filter((e) => e.subject === name).map(toIsoRecord),
          })),
        };
      },
    }),
    defineRoute({
      method: 'put',
      path: '/api/inputs/:name',
      summary: 'Enter a formula input for a period',
      description:
        'E.g. majorStreetKm for Traffic Monitoring; the KPIs it feeds recompute, closed periods are restated.',
      tag: 'kpis',
      access: 'analyst',
      params: inputNameParams,
      body: inputBodySchema,
      response: manualRecordSchema,
      handle: async ({ params, body, principal }) => {
        if (FORMULA_INPUTS[params.name] === undefined)
          throw new CityError('API_NOT_FOUND', `no formula input "${params.name}"`, { field: 'name' });
        const [added] = await kpis.enterValues([{ ...body, code: params.name }], byPrincipal(principal));
        return toIsoRecord(added!);
      },
    }),
  ];
}
