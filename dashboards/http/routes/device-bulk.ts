import { z } from 'zod';
import { CityError, isCityError } from '../../../core/errors.ts';
import type { Logger } from '../../../core/logger.ts';
import type { KindCatalogue } from '../../../devices/kind-catalogue.ts';
import {
  columnOfField,
  PROVISION_SHEET_COLUMNS,
  PROVISION_SHEET_MAX_ROWS,
  type ProvisionSheetError,
  parseProvisionSheet,
} from '../../../devices/provision-sheet.ts';
import type { DeviceRegistry } from '../../../devices/registry.ts';
import { type AnyRoute, defineRoute } from '../define-route.ts';
import { provisionedSchema, toDeviceJson } from '../schemas/devices.ts';
import { readRawBody } from './manual-inputs.ts';

const sheetErrorSchema = z.object({
  row: z.number().int().meta({ description: 'the row as a spreadsheet shows it (header = 1; 0 = the file)' }),
  column: z.string().meta({ description: 'the column header; empty for the row or the file' }),
  code: z
    .string()
    .meta({ description: 'COLUMN_UNKNOWN, CSV_MALFORMED, or the code POST /api/devices gives' }),
  message: z.string(),
});

export const bulkProvisionResultSchema = z
  .object({
    created: z.array(
      provisionedSchema.extend({ row: z.number().int().meta({ description: 'the row it came from' }) }),
    ),
    errors: z.array(sheetErrorSchema),
  })
  .meta({ id: 'BulkProvisionResult' });

/** Provisioning from a CSV: every valid row is provisioned, every bad one reported by row and column. */
export function deviceBulkRoutes(deps: {
  registry: DeviceRegistry;
  kinds: KindCatalogue;
  logger: Logger;
  bodyLimitBytes: number;
}): AnyRoute[] {
  const { registry, kinds } = deps;
  const log = deps.logger.child({ component: 'device-bulk' });
  return [
    defineRoute({
      method: 'post',
      path: '/api/devices/bulk',
      summary: 'Provision devices from a CSV',
      description:
        `Raw body, content type text/csv; header row with \`${PROVISION_SHEET_COLUMNS.join('`, `')}\` and ` +
        '`attributes.<name>` columns (kind and district required), one device a row, at most ' +
        `${PROVISION_SHEET_MAX_ROWS}. Valid rows are provisioned even when others are not: \`created\` holds ` +
        'each new device with its password (shown here only), `errors` each refused row with its row and ' +
        'column. A bad header or an unreadable file provisions nothing.',
      tag: 'devices',
      access: 'admin',
      requestContent: { 'text/csv': { schema: z.string() } },
      response: bulkProvisionResultSchema,
      handle: async ({ req }) => {
        const type = (req.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
        if (type !== 'text/csv')
          throw new CityError('API_VALIDATION', 'content type must be text/csv', { field: 'content-type' });
        const buffer = await readRawBody(req, deps.bodyLimitBytes);
        const sheet = parseProvisionSheet(buffer, (id) => kinds.get(id));
        const errors: ProvisionSheetError[] = [...sheet.errors];
        const created = [];
        // One at a time: each hash is CPU work, and ids taken by an earlier row must be seen by a later one.
        for (const { row, input } of sheet.rows) {
          try {
            const { device, password } = await registry.provision(input);
            created.push({ row, ...toDeviceJson(device), password });
          } catch (err) {
            if (!isCityError(err)) log.error({ err, row }, 'bulk provisioning: a row failed');
            errors.push({
              row,
              column: isCityError(err) ? columnOfField(err.field) : '',
              code: isCityError(err) ? err.code : 'API_INTERNAL',
              message: isCityError(err) ? err.message : 'the device could not be provisioned',
            });
          }
        }
        errors.sort((a, b) => a.row - b.row);
        return { created, errors };
      },
    }),
  ];
}
