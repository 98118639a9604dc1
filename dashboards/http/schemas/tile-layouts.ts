import { z } from 'zod';
import 'zod-openapi';
import { ROLES } from '../roles.ts';
import { MAX_TILES } from '../tile-defaults.ts';
import { isoInstant } from './common.ts';

/** Tile layout schemas: which KPI tiles a role sees on the overview, in order. */

export const tileLayoutParams = z
  .object({ role: z.enum(ROLES).meta({ description: 'the role whose tiles these are', example: 'viewer' }) })
  .strict();

export const tileLayoutBodySchema = z
  .object({
    codes: z
      .array(z.string().min(1).max(64))
      .min(1)
      .max(MAX_TILES)
      .meta({
        description:
          'KPI codes, official (`EN: EN: AQ: 1C`) or compact (`EN-EN-AQ-1C`), in tile order; no repeats',
        example: ['EN-EN-AQ-1C', 'EN-EN-EQ-2A', 'EN-EN-WS-2C'],
      }),
  })
  .strict()
  .meta({ id: 'TileLayoutUpdate' });

export const tileLayoutSchema = z
  .object({
    role: z.enum(ROLES),
    codes: z.array(z.string()).meta({ description: 'official KPI codes in tile order' }),
    configured: z
      .boolean()
      .meta({ description: 'false: no layout saved, this is the default (headline KPIs)' }),
    updatedBy: z.string().nullable(),
    updatedAt: isoInstant.nullable(),
  })
  .meta({ id: 'TileLayout' });
