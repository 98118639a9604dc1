import { CityError } from './errors.ts';

/**
 * A listener that could not bind, as an error that says which setting to change: a raw EADDRINUSE stack
 * names neither the listener nor the variable behind its port.
 */
export function listenError(err: unknown, setting: string, hostSetting: string): unknown {
  const e = err as NodeJS.ErrnoException & { port?: number; address?: string };
  if (e?.syscall !== 'listen') return err;
  const where = `${e.address ?? ''}:${e.port ?? '?'}`;
  const details = { setting, port: e.port, address: e.address, errno: e.code };
  if (e.code === 'EADDRINUSE')
    return new CityError(
      'PLATFORM_PORT_IN_USE',
      `${setting}: ${where} is already in use by another process: stop that process or set ${setting} to a free port`,
      { field: setting, details, cause: err },
    );
  // EACCES (a port below 1024 without the privilege), EADDRNOTAVAIL (an address this host does not have)
  return new CityError(
    'PLATFORM_LISTEN_FAILED',
    `${setting}/${hostSetting}: cannot listen on ${where} (${e.code}): choose another ${setting} or ${hostSetting}`,
    { field: setting, details, cause: err },
  );
}
