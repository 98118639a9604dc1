import { z } from 'zod';
import type { ApiKeyInfo, ApiKeyStore } from '../api-key-store.ts';
import { type AnyRoute, defineRoute } from '../define-route.ts';
import { ROLES } from '../roles.ts';
import { isoInstant, toIso, toIsoOrNull } from '../schemas/common.ts';

// Control characters would break log lines and terminal output.
// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to match them
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;

export const createKeySchema = z
  .object({
    name: z
      .string()
      .trim()
      .min(1)
      .max(64)
      .refine((s) => !CONTROL_CHARS.test(s), 'must not contain control characters')
      .meta({ description: 'who or what uses the key', example: 'grafana' }),
    role: z.enum(ROLES),
  })
  .strict()
  .meta({ id: 'CreateApiKey' });

export const apiKeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    role: z.enum(ROLES),
    createdAt: isoInstant,
    revokedAt: isoInstant.nullable(),
  })
  .meta({ id: 'ApiKey' });

export const createdKeySchema = apiKeySchema
  .extend({ key: z.string().meta({ description: 'the key: shown here only, never again' }) })
  .meta({ id: 'CreatedApiKey' });

const keyIdParams = z.object({ id: z.string().regex(/^[a-z0-9]{1,32}$/) }).strict();

const toKeyJson = (k: ApiKeyInfo) => ({
  id: k.id,
  name: k.name,
  role: k.role,
  createdAt: toIso(k.createdAt),
  revokedAt: toIsoOrNull(k.revokedAt),
});

/** API keys (admin only). Keys are stored hashed: the key itself is returned once, at creation. */
export function keyRoutes(deps: { apiKeys: ApiKeyStore }): AnyRoute[] {
  return [
    defineRoute({
      method: 'post',
      path: '/api/keys',
      summary: 'Create an API key',
      tag: 'keys',
      access: 'admin',
      body: createKeySchema,
      status: 201,
      response: createdKeySchema,
      handle: async ({ body }) => {
        const { key, token } = await deps.apiKeys.create(body);
        return { ...toKeyJson(key), key: token };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/keys',
      summary: 'List API keys (never the keys themselves)',
      tag: 'keys',
      access: 'admin',
      response: z.object({ items: z.array(apiKeySchema) }).meta({ id: 'ApiKeyList' }),
      handle: async () => ({ items: (await deps.apiKeys.list()).map(toKeyJson) }),
    }),
    defineRoute({
      method: 'delete',
      path: '/api/keys/:id',
      summary: 'Revoke an API key',
      description:
        'Effective at once, live connections included. The last admin key cannot be revoked (409).',
      tag: 'keys',
      access: 'admin',
      params: keyIdParams,
      status: 204,
      otherResponses: { 409: 'API_CONFLICT: the last admin key' },
      handle: async ({ params }) => {
        await deps.apiKeys.revoke(params.id);
        return undefined;
      },
    }),
  ];
}
