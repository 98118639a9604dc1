import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configSchema, envNameOf } from '../../core/config.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README stays true to the code', () => {
  it('documents every configuration variable in its table', () => {
    const missing = Object.keys(configSchema.shape).filter(
      (key) => !readme.includes(`| \`${envNameOf(key)}\` |`),
    );
    expect(missing).toEqual([]);
  });

  it('shows the two-command quick start and the test command', () => {
    expect(readme).toContain('npm install && npm start');
    expect(readme).toContain('npm test');
    expect(readme).toContain('npm run demo');
  });
});
