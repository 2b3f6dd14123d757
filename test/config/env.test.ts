import { resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BATCH_INTERVAL_BOUNDS, readEnv, senderEnvironment, TIMER_INTERVAL_BOUNDS } from '../../src/config/env.js';

// Every call passes its own environment and CI verdict: the caller's CI or test runner never leaks in.
const read = (env: Record<string, string | undefined>, isCI = false) => readEnv(env, isCI);

const TRUTHY = ['1', 'true', 'yes', 'y', 'on'];
const FALSY = ['0', 'false', 'no', 'n', 'off'];
/** Each word as written, upper-cased, capitalised, and padded with blanks. */
const spellings = (word: string) => [word, word.toUpperCase(), word[0]!.toUpperCase() + word.slice(1), `  ${word}\t`];

describe('readEnv: yes/no words', () => {
  it.each(TRUTHY.flatMap(spellings))('%j is yes', (value) => {
    const env = read({ TALLYHO_DRY_RUN: value, TALLYHO_DEBUG: value, TALLYHO_TIMER: value });
    expect(env.dryRun).toBe(true);
    expect(env.debug).toBe(true);
    expect(env.timer).toBe(true);
    expect(env.warnings).toEqual([]);
  });

  it.each(FALSY.flatMap(spellings))('%j is no', (value) => {
    const env = read({ TALLYHO_DRY_RUN: value, TALLYHO_DEBUG: value, TALLYHO_TIMER: value, CI: value });
    expect(env.dryRun).toBe(false);
    expect(env.debug).toBe(false);
    expect(env.timer).toBe(false);
    expect(env.ci).toBe(false);
    expect(env.warnings).toEqual([]);
  });

  it.each(['', ' ', '\t \n'])('%j is the same as unset, for every variable', (blank) => {
    const names = [
      'DO_NOT_TRACK', 'TALLYHO_DISABLE', 'TALLYHO_OPTOUT', 'TALLYHO_OPTIN', 'TALLYHO_LEVEL', 'TALLYHO_SHOW_ME',
      'TALLYHO_DRY_RUN', 'TALLYHO_DEBUG', 'TALLYHO_ENDPOINT', 'TALLYHO_TIMER', 'TALLYHO_TIMER_INTERVAL_SEC',
      'TALLYHO_BATCH_INTERVAL_SEC', 'TALLYHO_SALT_TYPE', 'TALLYHO_HOME', 'CI', 'VITEST', 'JEST_WORKER_ID', 'NODE_TEST_CONTEXT', 'NODE_ENV',
    ];
    const env = read(Object.fromEntries(names.map((name) => [name, blank])));
    const { optedOutBy: _optedOutBy, ...facts } = env;
    const { optedOutBy: _unsetOptedOutBy, ...unset } = read({});
    expect(facts).toEqual(unset);
    expect(env.doNotTrack).toBe(false);
    expect(env.disable).toBe(false);
    expect(env.timer).toBeUndefined();
    expect(env.home).toBeUndefined();
    expect(env.testRunner).toBeUndefined();
    expect(env.warnings).toEqual([]);
  });

  it('a bad yes/no value gives one warning naming the variable, the value and the default used', () => {
    const env = read({ TALLYHO_DRY_RUN: 'maybe', TALLYHO_DEBUG: 'sometimes' });
    expect(env.dryRun).toBe(false);
    expect(env.debug).toBe(false);
    expect(env.warnings).toHaveLength(2);
    const dryRun = env.warnings.find((w) => w.includes('TALLYHO_DRY_RUN'));
    expect(dryRun).toContain('"maybe"');
    expect(dryRun).toMatch(/using false/);
    expect(env.warnings.find((w) => w.includes('TALLYHO_DEBUG'))).toContain('"sometimes"');
    for (const line of env.warnings) expect(line).not.toContain('\n');
  });

  it('never throws, whatever the values', () => {
    const names = [
      'DO_NOT_TRACK', 'TALLYHO_DISABLE', 'TALLYHO_OPTOUT', 'TALLYHO_OPTIN', 'TALLYHO_LEVEL', 'TALLYHO_SHOW_ME',
      'TALLYHO_DRY_RUN', 'TALLYHO_DEBUG', 'TALLYHO_TIMER', 'TALLYHO_TIMER_INTERVAL_SEC', 'TALLYHO_BATCH_INTERVAL_SEC', 'TALLYHO_SALT_TYPE', 'CI',
      'NODE_ENV',
    ];
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...names), fc.string()), (env) => {
        const facts = read(env);
        expect(Array.isArray(facts.warnings)).toBe(true);
      }),
    );
  });
});

describe('readEnv: opt-out variables', () => {
  it.each(['1', 'true', 'anything', 'please', '2', 'disabled'])('DO_NOT_TRACK=%j and TALLYHO_DISABLE=%j mean off', (value) => {
    expect(read({ DO_NOT_TRACK: value }).doNotTrack).toBe(true);
    expect(read({ TALLYHO_DISABLE: value }).disable).toBe(true);
    // An opt-out is never second-guessed with a warning.
    expect(read({ DO_NOT_TRACK: value }).warnings).toEqual([]);
  });

  it.each(FALSY.flatMap(spellings))('DO_NOT_TRACK=%j and TALLYHO_DISABLE=%j are a plain no', (value) => {
    expect(read({ DO_NOT_TRACK: value }).doNotTrack).toBe(false);
    expect(read({ TALLYHO_DISABLE: value }).disable).toBe(false);
  });

  it('unset means not opted out', () => {
    expect(read({}).doNotTrack).toBe(false);
    expect(read({}).disable).toBe(false);
  });

  it('TALLYHO_OPTOUT and TALLYHO_OPTIN are comma lists, blanks ignored', () => {
    const env = read({ TALLYHO_OPTOUT: ' acme-sdk, @acme/cli ,,', TALLYHO_OPTIN: 'other' });
    expect(env.optOut).toEqual(['acme-sdk', '@acme/cli']);
    expect(env.optIn).toEqual(['other']);
    expect(read({}).optOut).toEqual([]);
  });
});

describe('readEnv: optedOutBy(the author\'s own variable)', () => {
  it.each(['1', 'true', 'yes', 'anything'])('ACME_TELEMETRY_DISABLED=%j means off', (value) => {
    expect(read({ ACME_TELEMETRY_DISABLED: value }).optedOutBy('ACME_TELEMETRY_DISABLED')).toBe(true);
  });

  it.each(FALSY.flatMap(spellings))('ACME_TELEMETRY_DISABLED=%j is a plain no', (value) => {
    expect(read({ ACME_TELEMETRY_DISABLED: value }).optedOutBy('ACME_TELEMETRY_DISABLED')).toBe(false);
  });

  it('an unset variable, or no variable at all, is not an opt-out', () => {
    const env = read({ OTHER: '1' });
    expect(env.optedOutBy('ACME_TELEMETRY_DISABLED')).toBe(false);
    expect(env.optedOutBy(undefined)).toBe(false);
  });

  // Empty or blank values mean unset (STYLE.md), for the author's variable as for tallyho's own.
  it.each(['', '  '])('ACME_TELEMETRY_DISABLED=%j is the same as unset', (value) => {
    expect(read({ ACME_TELEMETRY_DISABLED: value }).optedOutBy('ACME_TELEMETRY_DISABLED')).toBe(false);
  });
});

describe('readEnv: TALLYHO_SHOW_ME', () => {
  it.each([...TRUTHY.flatMap(spellings), 'stderr', 'STDERR', ' Stderr '])('%j prints to stderr', (value) => {
    expect(read({ TALLYHO_SHOW_ME: value }).showMe).toEqual({ to: 'stderr' });
  });

  it.each(['/tmp/reports.jsonl', 'reports.jsonl', 'C:\\Temp\\Yes.jsonl', './On'])('%j appends to that file, resolved from the working directory once', (value) => {
    expect(read({ TALLYHO_SHOW_ME: value }).showMe).toEqual({ to: 'file', path: resolve(value) });
  });

  it.each([...FALSY.flatMap(spellings), ''])('%j shows nothing', (value) => {
    expect(read({ TALLYHO_SHOW_ME: value }).showMe).toBeUndefined();
  });

  it('a dry run shows on stderr unless TALLYHO_SHOW_ME says where, or says no', () => {
    expect(read({ TALLYHO_DRY_RUN: '1' }).showMe).toEqual({ to: 'stderr' });
    expect(read({ TALLYHO_DRY_RUN: '1', TALLYHO_SHOW_ME: '0' }).showMe).toBeUndefined();
    expect(read({ TALLYHO_DRY_RUN: '1', TALLYHO_SHOW_ME: 'reports.jsonl' }).showMe).toEqual({ to: 'file', path: resolve('reports.jsonl') });
    expect(read({ TALLYHO_DRY_RUN: '0' }).showMe).toBeUndefined();
  });
});

describe('readEnv: TALLYHO_BATCH_INTERVAL_SEC', () => {
  const { min, max } = BATCH_INTERVAL_BOUNDS;

  it('accepts whole seconds from 0 (every exit) to a week', () => {
    for (const n of [min, 1, 3600, max]) {
      const env = read({ TALLYHO_BATCH_INTERVAL_SEC: ` ${n} ` });
      expect(env.batchIntervalSec).toBe(n);
      expect(env.warnings).toEqual([]);
    }
  });

  it.each([
    ['-1', min],
    [String(max + 1), max],
  ])('%s is held to %i, with a warning naming both', (value, used) => {
    const env = read({ TALLYHO_BATCH_INTERVAL_SEC: value });
    expect(env.batchIntervalSec).toBe(used);
    expect(env.warnings).toEqual([expect.stringContaining(`TALLYHO_BATCH_INTERVAL_SEC=${value}`)]);
    expect(env.warnings[0]).toContain(`using ${used}`);
  });

  it.each(['soon', '1.5', '60s'])('%j is not a number of seconds: the author\'s interval, with a warning', (value) => {
    const env = read({ TALLYHO_BATCH_INTERVAL_SEC: value });
    expect(env.batchIntervalSec).toBeUndefined();
    expect(env.warnings).toEqual([expect.stringContaining(JSON.stringify(value))]);
  });
});

describe('readEnv: TALLYHO_TIMER_INTERVAL_SEC', () => {
  const { min, max } = TIMER_INTERVAL_BOUNDS;

  it('accepts whole seconds within bounds, the bounds included', () => {
    for (const n of [min, 60, 3600, max]) {
      const env = read({ TALLYHO_TIMER_INTERVAL_SEC: ` ${n} ` });
      expect(env.timerIntervalSec).toBe(n);
      expect(env.warnings).toEqual([]);
    }
  });

  it.each([
    ['0', min],
    ['9', min],
    ['-5', min],
    [String(max + 1), max],
    ['99999999', max],
  ])('%s is clamped to %i, with a warning naming both', (value, used) => {
    const env = read({ TALLYHO_TIMER_INTERVAL_SEC: value });
    expect(env.timerIntervalSec).toBe(used);
    expect(env.warnings).toHaveLength(1);
    expect(env.warnings[0]).toContain('TALLYHO_TIMER_INTERVAL_SEC');
    expect(env.warnings[0]).toContain(value);
    expect(env.warnings[0]).toContain(`using ${used}`);
  });

  it.each(['abc', '1.5', '60s', 'NaN', 'Infinity'])('%j is not a number of seconds: the author\'s interval, with a warning', (value) => {
    const env = read({ TALLYHO_TIMER_INTERVAL_SEC: value });
    expect(env.timerIntervalSec).toBeUndefined();
    expect(env.warnings).toHaveLength(1);
    expect(env.warnings[0]).toContain('TALLYHO_TIMER_INTERVAL_SEC');
    expect(env.warnings[0]).toContain(JSON.stringify(value));
    expect(env.warnings[0]).toContain("author's interval");
  });

  it('TALLYHO_TIMER left unset leaves the author\'s choice (undefined), a bad value turns it off with a warning', () => {
    expect(read({}).timer).toBeUndefined();
    const env = read({ TALLYHO_TIMER: 'hourly' });
    expect(env.timer).toBe(false);
    expect(env.warnings[0]).toContain('TALLYHO_TIMER');
    expect(env.warnings[0]).toContain('"hourly"');
  });
});

describe('readEnv: TALLYHO_LEVEL and TALLYHO_SALT_TYPE', () => {
  it.each([
    ['basic', 'basic'],
    ['USAGE', 'usage'],
    [' Full ', 'full'],
  ])('TALLYHO_LEVEL=%j is %s', (value, level) => {
    const env = read({ TALLYHO_LEVEL: value });
    expect(env.level).toBe(level);
    expect(env.warnings).toEqual([]);
  });

  it('a bad TALLYHO_LEVEL keeps the author\'s level, with a warning naming it', () => {
    const env = read({ TALLYHO_LEVEL: 'minimal' });
    expect(env.level).toBeUndefined();
    expect(env.warnings).toHaveLength(1);
    expect(env.warnings[0]).toContain('TALLYHO_LEVEL');
    expect(env.warnings[0]).toContain('"minimal"');
    expect(env.warnings[0]).toContain("author's level");
  });

  it('TALLYHO_SALT_TYPE is random or machine, any case; anything else is random, with a warning', () => {
    expect(read({ TALLYHO_SALT_TYPE: 'Machine' }).saltType).toBe('machine');
    expect(read({ TALLYHO_SALT_TYPE: 'random' }).saltType).toBe('random');
    expect(read({}).saltType).toBeUndefined();
    const env = read({ TALLYHO_SALT_TYPE: 'mac-address' });
    expect(env.saltType).toBeUndefined();
    expect(env.warnings[0]).toContain('TALLYHO_SALT_TYPE');
    expect(env.warnings[0]).toContain('"mac-address"');
    expect(env.warnings[0]).toContain('using random');
  });

  it('TALLYHO_HOME and TALLYHO_ENDPOINT are taken trimmed', () => {
    const env = read({ TALLYHO_HOME: ' /srv/tallyho ', TALLYHO_ENDPOINT: 'https://proxy.example/v1 ' });
    expect(env.home).toBe('/srv/tallyho');
    expect(env.endpoint).toBe('https://proxy.example/v1');
  });
});

describe('readEnv: CI and test runners', () => {
  it('CI is what the caller\'s verdict says, or a yes word in CI', () => {
    expect(read({}, true).ci).toBe(true);
    expect(read({}, false).ci).toBe(false);
    expect(read({ CI: 'true' }).ci).toBe(true);
    expect(read({ CI: '1' }).ci).toBe(true);
    expect(read({ CI: 'false' }).ci).toBe(false);
  });

  it('an explicit environment is never judged by the real one', () => {
    // Whatever CI says around this test, an explicit empty environment is not CI.
    expect(readEnv({}).ci).toBe(false);
  });

  it.each([
    [{ VITEST: 'true' }, 'VITEST'],
    [{ JEST_WORKER_ID: '3' }, 'JEST_WORKER_ID'],
    [{ NODE_TEST_CONTEXT: 'child-v8' }, 'NODE_TEST_CONTEXT'],
    [{ NODE_ENV: 'test' }, 'NODE_ENV=test'],
    [{ NODE_ENV: 'TEST' }, 'NODE_ENV=test'],
  ])('%j is a test runner: %s', (env, name) => {
    expect(read(env).testRunner).toBe(name);
  });

  it.each([{}, { NODE_ENV: 'production' }, { NODE_ENV: 'development' }, { VITEST: '' }])('%j is no test runner', (env) => {
    expect(read(env).testRunner).toBeUndefined();
  });
});

describe('senderEnvironment', () => {
  it('passes the environment on, less what would load or change code in the sender', () => {
    const env = senderEnvironment({
      PATH: '/bin',
      TALLYHO_HOME: '/h',
      NODE_OPTIONS: '--require ./evil.js',
      NODE_PATH: '/lib',
      NODE_REPL_HISTORY: '/x',
      GONE: undefined,
    });
    expect(env).toEqual({ PATH: '/bin', TALLYHO_HOME: '/h' });
  });
});
