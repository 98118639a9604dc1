import { createDocument, type oas31 } from 'zod-openapi';
import { type AnyRoute, openApiPaths } from './define-route.ts';

/**
 * The OpenAPI 3.1 document, generated from the same route declarations and zod schemas that serve and
 * validate the requests (define-route.ts).
 */
export function buildOpenApiDocument(
  routes: readonly AnyRoute[],
  info: { cityName: string; version: string },
): oas31.OpenAPIObject {
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'citymetrics API',
      version: info.version,
      description: `REST API of citymetrics for ${info.cityName}: devices, series, ingest statistics. Authenticate with an API key: \`Authorization: Bearer cmk_…\`. Roles: viewer < operator < analyst < admin. Devices that speak only HTTP post readings with their own credentials (HTTP Basic). Errors answer \`{ error: { code, message, field?, details? } }\` with a stable code.`,
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    components: {
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', description: 'an API key, `cmk_<id>_<secret>`' },
        deviceBasic: {
          type: 'http',
          scheme: 'basic',
          description: 'a device: its id as user name and the password issued at provisioning',
        },
      },
    },
    security: [{ bearerAuth: [] }],
    paths: openApiPaths(routes),
  });
}
