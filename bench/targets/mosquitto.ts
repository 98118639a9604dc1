import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer, Socket } from 'node:net';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { benchDeviceIds, HOST, type Target, type TargetOptions } from './target.ts';

export const MOSQUITTO_BIN = '/usr/sbin/mosquitto';

export const mosquittoAvailable = (): boolean => existsSync(MOSQUITTO_BIN);

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, HOST, () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });

const canConnect = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = new Socket();
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.connect(port, HOST);
  });

/**
 * Scenario 2, the hand-assembled baseline: Debian's mosquitto with its default queue limits (deliberately
 * untuned: that is what a Telegraf-like stack gets) and a Node subscriber (the `mqtt` package) that parses
 * each JSON reading and counts it, at the scenario's QoS. This is what such a stack does before storing
 * anything.
 */
export async function startMosquitto(o: TargetOptions): Promise<Target> {
  const port = await freePort();
  const conf = join(o.dataDir, 'mosquitto.conf');
  writeFileSync(conf, `listener ${port} ${HOST}\nallow_anonymous true\npersistence false\nlog_dest none\n`);
  const broker: ChildProcess = spawn(MOSQUITTO_BIN, ['-c', conf], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<void>((resolve) => broker.once('exit', () => resolve()));
  let up = false;
  for (let i = 0; i < 200 && !up && broker.exitCode === null; i++) {
    up = await canConnect(port);
    if (!up) await new Promise((r) => setTimeout(r, 25));
  }
  if (!up) {
    broker.kill('SIGKILL');
    throw new Error(`mosquitto did not start on port ${port}`);
  }
  const subscriber = await mqtt.connectAsync(`mqtt://${HOST}:${port}`, {
    clientId: 'bench-subscriber',
    clean: true,
    reconnectPeriod: 0,
  });
  subscriber.on('message', function parseAndCount(_topic, payload) {
    const reading = JSON.parse(payload.toString()) as { ts: number; values: Record<string, unknown> };
    let values = 0;
    for (const _ in reading.values) values++;
    o.counter.record(reading.ts, values, Date.now());
  });
  await subscriber.subscribeAsync('devices/+/telemetry', { qos: o.qos });
  return {
    port,
    host: HOST,
    devices: benchDeviceIds(o.devices).map((id) => ({ id })),
    pids: [process.pid, broker.pid!],
    async stop() {
      await subscriber.endAsync(true).catch(() => {});
      broker.kill('SIGTERM');
      const timer = setTimeout(() => broker.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
