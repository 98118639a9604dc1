import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { influxConfigShape, influxOptionsFromConfig } from './influx-config.ts';
import { resolveInfluxOptions } from './influx-options.ts';

describe('InfluxDB config keys', () => {
  it('parse environment strings and map to valid store options', () => {
    const config = z.object(influxConfigShape).parse({
      influxUrl: 'http://influxdb:8086',
      influxToken: 'secret',
      influxOrg: 'city',
      influxMaxRetries: '7',
      influxDeleteOnPrune: 'true',
    });
    const options = resolveInfluxOptions(influxOptionsFromConfig(config, '/data'));
    expect(options).toMatchObject({
      url: 'http://influxdb:8086',
      writeTransport: 'v2',
      token: 'secret',
      org: 'city',
      bucket: 'citymetrics',
      database: 'citymetrics',
      maxRetries: 7,
      deleteOnPrune: true,
      indexFile: '/data/influx-index.db',
    });
  });
});
