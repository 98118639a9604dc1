#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { loadConfig } from './core/config.ts';
import { isCityError } from './core/errors.ts';
import { createLogger } from './core/logger.ts';
import { runDemo } from './demo.ts';
import { registerDeviceCommands } from './devices/command.ts';
import { registerKpiCommands } from './metrics/command.ts';
import { buildPlatform, type Platform } from './platform.ts';
import { registerSimulateCommand } from './simulators/command.ts';

/** How long a graceful stop may take before the process exits anyway (the durable log keeps the rest). */
const STOP_TIMEOUT_MS = 15_000;

function prettyLogs(): boolean {
  return process.stdout.isTTY === true && process.env.LOG_FORMAT !== 'json';
}

async function loggerFor(level: string) {
  if (!prettyLogs()) return createLogger(level);
  const { default: pretty } = await import('pino-pretty');
  return createLogger(
    level,
    pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,service' }),
  );
}

/** Stops the platform on SIGINT/SIGTERM: drain, flush, close, then exit; a second signal exits at once. */
function stopOnSignals(
  platform: Platform,
  log: { info: (o: object, m: string) => void; error: (o: object, m: string) => void },
) {
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) process.exit(130);
    signalled = true;
    log.info({ signal }, 'stopping: draining and flushing');
    const timer = setTimeout(() => {
      log.error({ timeoutMs: STOP_TIMEOUT_MS }, 'graceful stop timed out');
      process.exit(1);
    }, STOP_TIMEOUT_MS);
    timer.unref();
    platform.stop().then(
      () => {
        log.info({}, 'stopped cleanly');
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

export async function startPlatform(overrides: Record<string, unknown> = {}) {
  const config = loadConfig(process.env, overrides);
  const logger = await loggerFor(config.logLevel);
  const platform = await buildPlatform({ config, logger });
  const admin = await platform.apiKeys.ensureAdmin(config.adminToken);
  const addresses = await platform.start();
  stopOnSignals(platform, logger);
  logger.info(
    {
      http: addresses.httpUrl,
      mqtt: addresses.mqttUrl,
      mqttWs: addresses.mqttWsPort,
      dataDir: config.dataDir,
      timezone: config.cityTimezone,
    },
    'citymetrics is running',
  );
  if (admin.created && admin.token !== undefined) {
    // Printed once: only its hash is stored. Keep it (or set ADMIN_TOKEN yourself).
    process.stdout.write(`\n  Admin API key (shown only now, stored hashed): ${admin.token}\n\n`);
  }
  return { platform, addresses, logger };
}

const program = new Command()
  .name('citymetrics')
  .description('City sensor streams to verified U4SSC KPIs')
  .showHelpAfterError();

program
  .command('start')
  .description('run the whole platform (MQTT gateway, ingest, API, live page) on embedded storage')
  .action(async () => {
    await startPlatform();
  });

program
  .command('demo')
  .description(
    'run the platform with a simulated city of ~100 devices and print the page URL and an admin key',
  )
  .option(
    '--devices <n>',
    'number of simulated devices',
    (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 10_000)
        throw new InvalidArgumentError('a whole number from 1 to 10000');
      return n;
    },
    100,
  )
  .option(
    '--speed <x>',
    "readings come this many times faster than the kinds' real intervals",
    (v) => {
      const n = Number(v);
      if (!(n > 0 && n <= 3600)) throw new InvalidArgumentError('a number above 0, at most 3600');
      return n;
    },
    30,
  )
  .action(async (opts: { devices: number; speed: number }) => {
    const { platform, addresses, logger } = await startPlatform();
    await runDemo({ platform, addresses, logger, devices: opts.devices, speed: opts.speed });
  });

registerSimulateCommand(program);
registerDeviceCommands(program);
registerKpiCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (isCityError(err)) {
    process.stderr.write(`${err.code}: ${err.message}\n`);
  } else {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  }
  process.exit(1);
});
