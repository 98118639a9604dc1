import { type Command, InvalidArgumentError } from 'commander';
import { ApiClient, defaultApiUrl } from './api-client.ts';
import { defaultFix } from './error-fixes.ts';
import { CityError } from './errors.ts';

/**
 * What every command that talks to a running platform shares: `--api` (defaulting to where the server's
 * own configuration says it listens) and `--token`, and the one API client built from them.
 */
export interface ApiOptions {
  api: string;
  token?: string;
}

export const httpUrl = (v: string): string => {
  try {
    const url = new URL(v);
    if (url.protocol === 'http:' || url.protocol === 'https:') return v;
  } catch {
    // told below
  }
  throw new InvalidArgumentError('expected an http:// or https:// URL, e.g. http://localhost:3000');
};

export function withApiOptions(cmd: Command, tokenHelp = 'API key (or CITYMETRICS_TOKEN)'): Command {
  return cmd
    .option(
      '--api <url>',
      'platform API (default CITYMETRICS_API, else localhost on HTTP_PORT)',
      httpUrl,
      defaultApiUrl(),
    )
    .option('--token <key>', tokenHelp);
}

/** The client for a command's options; a command that changes anything needs a key and says how to get one. */
export function apiClientFor(opts: ApiOptions): ApiClient {
  const token = opts.token ?? process.env.CITYMETRICS_TOKEN ?? process.env.ADMIN_TOKEN;
  if (!token)
    throw new CityError('API_UNAUTHENTICATED', 'this command needs an API key', {
      fix: defaultFix('API_UNAUTHENTICATED'),
    });
  return new ApiClient({ baseUrl: opts.api, token });
}

export const printJson = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
};
