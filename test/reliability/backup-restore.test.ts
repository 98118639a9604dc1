import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { create as createTar, extract } from 'tar';
import { afterAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../backup/manifest.ts';
import { sha256File } from '../../backup/sha256-file.ts';
import { KPI_SCHEMA_VERSION } from '../../metrics/kpi-store-schema.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';
import { AckedFleet, type FleetDevice } from './acked-fleet.ts';
import { runCli } from './backup-cli.ts';
import { freePorts, PlatformProcess } from './platform-process.ts';
import { readStored } from './stored-readings.ts';

/**
 * Backup and restore with real processes: `citymetrics backup` runs while the platform takes QoS 1 readings,
 * the archive is restored into a new data directory and a platform started on it serves the same devices,
 * keys, KPI inputs and every reading acknowledged before the backup started. Then the refusals: a running
 * instance on the target, a damaged archive, an archive from a newer schema.
 */
const DEVICES = 8;
const PER_DEVICE = 1_500;
const STEP_MS = 1_000;

/** Until the durable log has nothing left to move into the series store (`token`: an admin key there). */
async function waitForEmptyBacklog(p: PlatformProcess, token: string): Promise<void> {
  for (;;) {
    const res = await fetch(`${p.httpUrl}/api/ingest/stats`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const stats = (await res.json()) as { backlog?: number };
    expect(res.status).toBe(200);
    if (stats.backlog === 0) return;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Unpacks an archive, lets `change` edit the files, packs them again in the same order. */
async function repack(
  archive: string,
  out: string,
  change: (dir: string, manifest: Manifest) => Promise<void>,
) {
  const work = makeTempDir('citymetrics-repack-');
  try {
    await extract({ file: archive, cwd: work.path });
    const manifest = JSON.parse(readFileSync(work.file('manifest.json'), 'utf8')) as Manifest;
    await change(work.path, manifest);
    writeFileSync(work.file('manifest.json'), JSON.stringify(manifest));
    await createTar({ gzip: true, file: out, cwd: work.path }, [
      'manifest.json',
      ...manifest.files.map((f) => f.name),
    ]);
  } finally {
    work.remove();
  }
}

describe('citymetrics backup and restore', () => {
  const dir = makeTempDir('citymetrics-backup-');
  const source = dir.file('source');
  const archive = dir.file('city.tar.gz');
  let platform: PlatformProcess | null = null;
  let restored: PlatformProcess | null = null;
  let fleet: AckedFleet | null = null;
  afterAll(async () => {
    await fleet?.close();
    await platform?.kill('SIGKILL');
    await restored?.kill('SIGKILL');
    dir.remove();
  });

  it('copies a running platform under QoS 1 load; the restored copy serves every reading acknowledged before', {
    timeout: 180_000,
  }, async () => {
    platform = new PlatformProcess(source, await freePorts(), { DEVICE_RATE_LIMIT_PER_SEC: '100000' });
    await platform.start();
    const p = platform;
    const devices: FleetDevice[] = [];
    for (let i = 0; i < DEVICES; i++) {
      const res = await p.api<FleetDevice>('POST', '/api/devices', {
        installedAt: new Date(Date.now() - 7 * 86_400_000).toISOString(), // readings go back as far as the late window
        kind: 'noise-monitor',
        district: `D${i % 2}`,
      });
      expect(res.status).toBe(201);
      devices.push(res.body);
    }
    const key = await p.api<{ id: string; key: string }>('POST', '/api/keys', {
      name: 'ops',
      role: 'viewer',
    });
    expect(key.status).toBe(201);
    const input = await p.api('PUT', '/api/inputs/majorStreetKm', {
      period: '2025',
      value: 412.5,
      unit: 'km',
      dataQuality: 'accurate-measurement',
      source: 'street register',
    });
    expect(input.status).toBe(200);

    const firstTs = Math.floor((Date.now() - 3 * 3_600_000) / 60_000) * 60_000;
    fleet = new AckedFleet({
      url: p.mqttUrl,
      devices,
      perDevice: PER_DEVICE,
      firstTs,
      stepMs: STEP_MS,
      metric: 'laeq',
      valueOf: (i) => 30 + (i % 90),
      window: 10,
    });
    const f = fleet;
    f.start();
    await f.when(() => f.acked >= f.total / 4);
    // What the backup must hold: every reading acknowledged before it started.
    const ackedBefore = new Map(devices.map((d) => [d.id, new Set(f.ackedOf(d.id))]));
    const ackedAtStart = f.acked;
    const backup = await runCli(['backup', '--out', archive, '--data-dir', source]);
    expect(backup.stderr).toBe('');
    expect(backup.code).toBe(0);
    const ackedAtEnd = f.acked;
    expect(backup.stdout).toContain('backup written');

    // Restoring over the running platform's directory is refused, naming its pid.
    const refused = await runCli(['restore', archive, '--data-dir', source, '--force']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^PLATFORM_DATA_DIR_IN_USE: /);
    expect(refused.stderr).toContain(`pid ${p.pid}`);

    await f.allAcked();
    await f.close();
    fleet = null;
    expect((await p.kill('SIGTERM')).code).toBe(0);
    platform = null;

    const target = dir.file('restored');
    const restore = await runCli(['restore', archive, '--data-dir', target]);
    expect(restore.stderr).toBe('');
    expect(restore.code).toBe(0);

    restored = new PlatformProcess(target, await freePorts(), {}, { adminToken: false });
    const r = restored;
    await r.start();
    // The admin key of the source platform works: access.db came back whole.
    const authed = (token: string, path: string) =>
      fetch(`${r.httpUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
    const devList = await authed(p.adminToken, '/api/devices?limit=100');
    expect(devList.status).toBe(200);
    const listed = (await devList.json()) as { items: Array<{ id: string }> };
    expect(listed.items.map((d) => d.id).sort()).toEqual(devices.map((d) => d.id).sort());
    expect((await authed(key.body.key, `/api/devices/${devices[0]!.id}`)).status).toBe(200);
    const inputs = (await (await authed(key.body.key, '/api/inputs')).json()) as {
      items: Array<{ name: string; entries: Array<{ value: number; period: string }> }>;
    };
    const street = inputs.items.find((i) => i.name === 'majorStreetKm');
    expect(street?.entries.map((e) => e.value)).toEqual([412.5]);

    // A device logs in with its password and is acknowledged.
    const d0 = devices[0]!;
    const client = await mqtt.connectAsync(r.mqttUrl, {
      username: d0.id,
      password: d0.password,
      reconnectPeriod: 0,
    });
    await client.publishAsync(
      `devices/${d0.id}/telemetry`,
      JSON.stringify({ ts: firstTs + PER_DEVICE * STEP_MS, values: { laeq: 55 } }),
      { qos: 1 },
    );
    await client.endAsync();

    // The log replays what the series copy lacked; then every acknowledged-before reading is stored once.
    await waitForEmptyBacklog(r, p.adminToken);
    expect((await r.kill('SIGTERM')).code).toBe(0);
    restored = null;
    const stored = readStored(target, 'laeq');
    let missing = 0;
    let storedTotal = 0;
    for (const d of devices) {
      const ts = stored.points.get(d.id) ?? [];
      storedTotal += ts.length;
      const have = new Set(ts);
      for (const i of ackedBefore.get(d.id)!) if (!have.has(firstTs + i * STEP_MS)) missing++;
      const counts = stored.rollupCount.get(d.id)!;
      expect(counts).toEqual({ minute: ts.length, hour: ts.length, day: ts.length });
    }
    console.info(
      `backup test: ${ackedAtStart} readings acknowledged when the backup started, ${ackedAtEnd} when it ended, ` +
        `${storedTotal} stored in the restored copy, ${missing} missing`,
    );
    expect(missing).toBe(0);
    expect(storedTotal).toBeGreaterThanOrEqual(ackedAtStart + 1);
  });

  it('refuses a damaged archive before writing anything', { timeout: 60_000 }, async () => {
    const tampered = dir.file('tampered.tar.gz');
    await repack(archive, tampered, async (work) => {
      const file = `${work}/registry.db`;
      const bytes = readFileSync(file);
      bytes[bytes.length - 100] = (bytes[bytes.length - 100]! + 1) % 256;
      writeFileSync(file, bytes);
    });
    const target = dir.file('from-tampered');
    const run = await runCli(['restore', tampered, '--data-dir', target]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^BACKUP_CHECKSUM_MISMATCH: /);
    expect(run.stderr).toContain('registry.db');

    // Cut short: not even a readable archive.
    const truncated = dir.file('truncated.tar.gz');
    const whole = readFileSync(archive);
    writeFileSync(truncated, whole.subarray(0, Math.floor(whole.length / 2)));
    const cut = await runCli(['restore', truncated, '--data-dir', target]);
    expect(cut.code).toBe(1);
    expect(cut.stderr).toMatch(/^BACKUP_ARCHIVE_INVALID: /);
    mkdirSync(target, { recursive: true });
    expect(readdirSync(target).filter((n) => n.endsWith('.db'))).toEqual([]);
  });

  it('refuses an archive whose KPI database has a newer schema', { timeout: 60_000 }, async () => {
    const newer = dir.file('newer.tar.gz');
    await repack(archive, newer, async (work, manifest) => {
      const file = `${work}/kpi.db`;
      const db = new Database(file);
      db.pragma(`user_version = ${KPI_SCHEMA_VERSION + 1}`);
      db.close();
      const entry = manifest.files.find((e) => e.name === 'kpi.db')!;
      entry.schemaVersion = KPI_SCHEMA_VERSION + 1;
      entry.sha256 = await sha256File(file);
      entry.bytes = readFileSync(file).length;
      manifest.citymetricsVersion = '99.0.0';
    });
    const target = dir.file('from-newer');
    const run = await runCli(['restore', newer, '--data-dir', target]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^BACKUP_SCHEMA_NEWER: /);
    expect(run.stderr).toContain('kpi.db');
    expect(run.stderr).toContain('citymetrics 99.0.0 or later');
  });

  it('refuses a non-empty data directory unless --force, which moves the old files aside', {
    timeout: 60_000,
  }, async () => {
    const target = dir.file('occupied');
    mkdirSync(target, { recursive: true });
    writeFileSync(`${target}/registry.db`, 'an older registry');
    const run = await runCli(['restore', archive, '--data-dir', target]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^BACKUP_TARGET_NOT_EMPTY: /);
    const forced = await runCli(['restore', archive, '--data-dir', target, '--force']);
    expect(forced.code).toBe(0);
    const aside = readdirSync(dir.path).find((n) => n.startsWith('occupied.before-restore-'));
    expect(aside).toBeDefined();
    expect(readFileSync(`${dir.path}/${aside}/registry.db`, 'utf8')).toBe('an older registry');
    const db = new Database(`${target}/registry.db`, { readonly: true });
    expect(db.prepare('SELECT count(*) FROM devices').pluck().get() as number).toBe(DEVICES);
    db.close();
  });
});
