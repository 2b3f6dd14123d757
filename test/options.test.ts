import { describe, expect, it } from 'vitest';
import { projectFileName } from '../src/config/home.js';
import { resolveOptions } from '../src/options.js';
import { consoleTransport } from '../src/transports/console.js';

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
      batch: { intervalSec: 3600 },
      consent: 'opt-out',
      maxNames: 2000,
      dependencies: [],
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
    const message = 'tallyho: createTelemetry() needs an options object such as { project: "acme-sdk", version: "1.0.0" }';
    expect(problem(undefined)).toBe(message);
    expect(problem(null)).toBe(message);
    expect(problem('acme-sdk')).toBe(message);
  });

  const TIMER = 'must be false or { intervalSec: n } with n a whole number from 10 to 604800';
  const TRANSPORT = 'must be transports such as httpTransport(url) or consoleTransport(): objects with a send() method';
  const PROJECT = 'may use only a-z 0-9 @ / . _ - (1 to 100 characters)';

  // The whole message, pinned: an author reads it at their desk, and it says what is allowed.
  it.each([
    [{ version: '1.0.0' }, 'project', 'is required: a string such as "acme-sdk"'],
    [{ ...base, project: 5 }, 'project', 'is required: a string such as "acme-sdk"'],
    [{ ...base, project: 'Acme' }, 'project', PROJECT],
    [{ ...base, project: 'a b' }, 'project', PROJECT],
    [{ ...base, project: '' }, 'project', PROJECT],
    [{ ...base, project: 'x'.repeat(101) }, 'project', PROJECT],
    [{ ...base, project: 'acme/../etc' }, 'project', 'must not contain ".."'],
    [{ ...base, project: 'a..b' }, 'project', 'must not contain ".."'],
    [{ project: 'acme-sdk' }, 'version', 'is required: a string such as "1.4.0"'],
    [{ ...base, version: 1 }, 'version', 'is required: a string such as "1.4.0"'],
    [{ ...base, version: '' }, 'version', 'must not be empty'],
    [{ ...base, version: '1'.repeat(101) }, 'version', 'must be at most 100 characters'],
    [{ ...base, level: 'everything' }, 'level', 'must be "basic", "usage" or "full"'],
    [{ ...base, consent: 'maybe' }, 'consent', 'must be "opt-out" or "opt-in"'],
    [{ ...base, transports: consoleTransport() }, 'transports', 'must be an array of transports'],
    [{ ...base, transports: null }, 'transports', 'must be an array of transports'],
    [{ ...base, transports: [consoleTransport(), {}] }, 'transports.1', TRANSPORT],
    [{ ...base, timer: true }, 'timer', TIMER],
    [{ ...base, timer: null }, 'timer', TIMER],
    [{ ...base, timer: [] }, 'timer', TIMER],
    [{ ...base, timer: {} }, 'timer', TIMER],
    [{ ...base, timer: { intervalSec: 9 } }, 'timer', TIMER],
    [{ ...base, timer: { intervalSec: 604_801 } }, 'timer', TIMER],
    [{ ...base, timer: { intervalSec: 10.5 } }, 'timer', TIMER],
    [{ ...base, timer: { intervalSec: '60' } }, 'timer', TIMER],
    [{ ...base, timer: { intervalSec: Number.NaN } }, 'timer', TIMER],
    [{ ...base, optOutEnv: 'not a variable' }, 'optOutEnv', 'must be an environment variable name such as ACME_TELEMETRY_DISABLED'],
    [{ ...base, optOutEnv: '' }, 'optOutEnv', 'must be an environment variable name such as ACME_TELEMETRY_DISABLED'],
    [{ ...base, optOutEnv: 5 }, 'optOutEnv', 'must be an environment variable name such as ACME_TELEMETRY_DISABLED'],
    [{ ...base, notice: 'x'.repeat(1001) }, 'notice', 'must be at most 1,000 characters'],
    [{ ...base, notice: 5 }, 'notice', 'must be a string of at most 1,000 characters'],
    [{ ...base, maxNames: 1.5 }, 'maxNames', 'must be a whole number'],
    [{ ...base, maxNames: '5' }, 'maxNames', 'must be a whole number'],
    [{ ...base, maxNames: Number.POSITIVE_INFINITY }, 'maxNames', 'must be a whole number'],
    [{ ...base, maxNames: 0 }, 'maxNames', 'must be a whole number from 1 to 100,000'],
    [{ ...base, maxNames: 100_001 }, 'maxNames', 'must be a whole number from 1 to 100,000'],
  ])('rejects %j: option "%s" %s', (options, option, message) => {
    expect(problem(options)).toBe(`tallyho: createTelemetry(): option "${option}" ${message}`);
  });

  it('names every problem of one option', () => {
    expect(problem({ ...base, project: 'A..b' })).toBe(`tallyho: createTelemetry(): option "project" ${PROJECT}; option "project" must not contain ".."`);
    expect(problem({ ...base, transports: [1, {}, consoleTransport()] })).toBe(
      `tallyho: createTelemetry(): option "transports.0" ${TRANSPORT}; option "transports.1" ${TRANSPORT}`,
    );
  });

  it('accepts the bounds and keeps only intervalSec of a timer', () => {
    expect(resolveOptions({ ...base, timer: { intervalSec: 10 }, maxNames: 1 })).toMatchObject({ timer: { intervalSec: 10 }, maxNames: 1 });
    expect(resolveOptions({ ...base, timer: { intervalSec: 604_800, extra: 1 }, maxNames: 100_000 }).timer).toEqual({ intervalSec: 604_800 });
  });

  it('names every bad option at once', () => {
    expect(problem({ project: 'Bad', level: 'x' })).toBe(
      'tallyho: createTelemetry(): option "project" may use only a-z 0-9 @ / . _ - (1 to 100 characters); ' +
        'option "version" is required: a string such as "1.4.0"; option "level" must be "basic", "usage" or "full"',
    );
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
