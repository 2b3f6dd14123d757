import { describe, expect, it } from 'vitest';
import { projectFileName, resolveOptions } from '../../src/config/options.js';
import { consoleTransport } from '../../src/transports/console.js';

const base = { project: 'acme-sdk', version: '1.0.0' };

/** The TypeError resolveOptions throws for `options`, or a failure when it does not throw one. */
function problem(options: unknown): string {
  try {
    resolveOptions(options);
  } catch (error) {
    expect(error).toBeInstanceOf(TypeError);
    return (error as TypeError).message;
  }
  throw new Error(`resolveOptions accepted ${JSON.stringify(options)}`);
}

describe('resolveOptions', () => {
  it('fills every default when only project and version are given', () => {
    expect(resolveOptions(base)).toEqual({
      project: 'acme-sdk',
      version: '1.0.0',
      transports: [],
      level: 'usage',
      timer: false,
      consent: 'opt-out',
      maxNames: 2000,
    });
  });

  it('keeps what the author passes', () => {
    const transport = consoleTransport();
    const given = {
      project: '@acme/sdk.core_2',
      version: '2.0.0',
      level: 'full',
      timer: { intervalSec: 60 },
      consent: 'opt-in',
      optOutEnv: 'ACME_TELEMETRY_DISABLED',
      notice: 'Acme counts which commands you run.',
      maxNames: 10,
    };
    const resolved = resolveOptions({ ...given, transports: [transport] });
    expect(resolved).toMatchObject(given);
    expect(resolved.transports).toEqual([transport]);
  });

  it('ignores options it does not know', () => {
    expect(resolveOptions({ ...base, colour: 'blue' })).not.toHaveProperty('colour');
  });

  it('needs an options object', () => {
    expect(problem(undefined)).toMatch(/needs an options object/);
    expect(problem('acme-sdk')).toMatch(/needs an options object/);
  });

  it.each([
    [{ version: '1.0.0' }, /option "project" is required/],
    [{ ...base, project: 'Acme' }, /option "project" may use only a-z 0-9 @ \/ \. _ -/],
    [{ ...base, project: 'a b' }, /option "project" may use only/],
    [{ ...base, project: '' }, /option "project" may use only/],
    [{ ...base, project: 'x'.repeat(101) }, /option "project" may use only .*1 to 100 characters/],
    [{ ...base, project: 'acme/../etc' }, /option "project" must not contain "\.\."/],
    [{ project: 'acme-sdk' }, /option "version" is required/],
    [{ ...base, version: '' }, /option "version" must not be empty/],
    [{ ...base, version: '1'.repeat(101) }, /option "version" must be at most 100 characters/],
    [{ ...base, project: 'a..b' }, /option "project" must not contain "\.\."/],
    [{ ...base, level: 'everything' }, /option "level" must be "basic", "usage" or "full"/],
    [{ ...base, consent: 'maybe' }, /option "consent" must be "opt-out" or "opt-in"/],
    [{ ...base, transports: consoleTransport() }, /option "transports" must be an array of transports/],
    [{ ...base, transports: [consoleTransport(), {}] }, /option "transports\.1" must be transports such as httpTransport/],
    [{ ...base, timer: true }, /option "timer" must be false or \{ intervalSec: n \}/],
    [{ ...base, timer: { intervalSec: 9 } }, /option "timer/],
    [{ ...base, optOutEnv: 'not a variable' }, /option "optOutEnv" must be an environment variable name/],
    [{ ...base, notice: 'x'.repeat(1001) }, /option "notice" must be at most 1,000 characters/],
    [{ ...base, maxNames: 1.5 }, /option "maxNames"/],
    [{ ...base, maxNames: 0 }, /option "maxNames"/],
  ])('rejects %j with a message that names the option', (options, message) => {
    expect(problem(options)).toMatch(message);
  });

  it('names every bad option at once', () => {
    const message = problem({ project: 'Bad', level: 'x' });
    expect(message).toMatch(/^tallyho: createTelemetry\(\): /);
    expect(message).toMatch(/option "project"/);
    expect(message).toMatch(/option "version"/);
    expect(message).toMatch(/option "level"/);
  });

  it('treats an option set to undefined as not given', () => {
    expect(resolveOptions({ ...base, level: undefined, transports: undefined }).level).toBe('usage');
  });
});

describe('projectFileName', () => {
  it('encodes a project name so that it stays inside its folder', () => {
    expect(projectFileName('@acme/sdk')).toBe('%40acme%2Fsdk');
    expect(projectFileName('acme.sdk')).toBe('acme%2Esdk');
    expect(projectFileName('..')).not.toContain('.');
  });
});
