import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMAND_AREAS } from '../cli-commands.ts';
import { defaultFix } from './error-fixes.ts';
import { type ErrorCode, errorCatalogue } from './errors.ts';

/** The CLI's commands as cli.ts registers them (start and demo are its own), two levels deep. */
function cliCommands(): Set<string> {
  const program = new Command('citymetrics');
  for (const register of COMMAND_AREAS) register(program);
  const names = new Set(['start', 'demo']);
  for (const c of program.commands) {
    names.add(c.name());
    for (const sub of c.commands) names.add(`${c.name()} ${sub.name()}`);
  }
  return names;
}

describe('the fixes the command line prints', () => {
  const codes = Object.keys(errorCatalogue) as ErrorCode[];
  const fixed = codes.flatMap((code) => {
    const fix = defaultFix(code, { api: 'http://localhost:3000' });
    return fix === undefined ? [] : [{ code, fix }];
  });

  it('exist for the errors a person at the command line meets, each a sentence of its own', () => {
    expect(fixed.length).toBeGreaterThanOrEqual(40);
    for (const { code, fix } of fixed) {
      expect(fix.length, code).toBeGreaterThan(10);
      // not the catalogue's message again: the fix says what to do, the message what went wrong
      expect(fix, code).not.toBe(errorCatalogue[code].message);
    }
    expect(defaultFix('INGEST_TS_FUTURE')).toBeUndefined();
  });

  it('say where the CLI looked when nothing answered', () => {
    expect(defaultFix('CLI_API_UNREACHABLE', { api: 'http://10.0.0.5:3000' })).toContain(
      'http://10.0.0.5:3000',
    );
    expect(defaultFix('SIMULATOR_API_UNREACHABLE', { api: 'http://h:1' })).toContain('http://h:1');
  });

  it('name only commands that exist', () => {
    const commands = cliCommands();
    for (const { code, fix } of fixed)
      for (const m of fix.matchAll(/`citymetrics ([a-z-]+)(?: ([a-z-]+))?/g)) {
        const [, first, second] = m;
        const named =
          second !== undefined && commands.has(`${first} ${second}`) ? `${first} ${second}` : first!;
        expect(commands.has(named), `${code}: ${m[0]}`).toBe(true);
      }
  });
});
