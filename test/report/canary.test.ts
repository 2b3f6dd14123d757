import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createTelemetry } from '../../src/index.js';
import { ReportSchema } from '../../src/schema.js';
import { installTestKit } from '../../src/testing.js';

/*
 * Privacy canary: unique strings handed to instrumented code in every way a program can must never
 * appear in any byte of any report, whether read in process through the test kit or as written by a
 * real process under TALLYHO_SHOW_ME.
 */

const root = mkdtempSync(join(tmpdir(), 'tallyho-canary-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const canary = (): string => `canary-${randomUUID()}`;

/** Each canary as it might leave in the clear or barely encoded. */
function forms(secret: string): string[] {
  const bytes = Buffer.from(secret);
  return [secret, randomPart(secret), bytes.toString('base64'), bytes.toString('hex'), encodeURIComponent(JSON.stringify(secret))];
}

function randomPart(secret: string): string {
  return secret.slice('canary-'.length);
}

/** The canaries (in any of their forms) that occur in `bytes`. */
function leaks(bytes: Buffer | string, secrets: readonly string[]): string[] {
  const text = Buffer.isBuffer(bytes) ? bytes.toString('latin1') : bytes;
  return secrets.filter((secret) => forms(secret).some((form) => text.includes(form)));
}

describe('the search itself', () => {
  it('finds a canary however it is written', () => {
    const secret = canary();
    for (const form of forms(secret)) expect(leaks(Buffer.from(`{"x":"${form}"}`), [secret])).toEqual([secret]);
    expect(leaks(Buffer.from('{"counts":{"Vault#open":1}}'), [secret])).toEqual([]);
  });
});

/** An object that would give a secret away to anything that stringified or serialised it. */
function bait(value: string): object {
  return {
    value,
    nested: { deeper: [value, { value }] },
    toString: () => value,
    toJSON: () => value,
    [Symbol.toPrimitive]: () => value,
  };
}

describe('reports read through the test kit', () => {
  it('carry the counts and none of the canaries', async () => {
    const kit = installTestKit();
    try {
      const secrets: string[] = [];
      const secret = (): string => {
        const s = canary();
        secrets.push(s);
        return s;
      };
      const telemetry = createTelemetry({ project: 'canary-kit', version: '1.0.0', level: 'full' });

      @telemetry.track()
      class Vault {
        owner: string;
        token: string;
        lastKey: unknown;
        meta: unknown;
        extra: string | undefined;
        constructor(owner: string, options: { token: string }) {
          this.owner = owner;
          this.token = options.token;
        }
        open(key: unknown, meta: unknown): number {
          this.lastKey = key;
          this.meta = meta;
          return String(key).length;
        }
        fail(message: string): never {
          throw new Error(message, { cause: { secret: this.token } });
        }
        throwValue(value: unknown): never {
          throw value;
        }
        async failLater(message: string): Promise<never> {
          throw new Error(message);
        }
        rejectWith(reason: unknown): Promise<never> {
          return Promise.reject(reason);
        }
        static create(owner: string): { owner: string } {
          return { owner };
        }
      }

      class Parser {
        private source = '';
        @telemetry.track()
        parse(source: string): number {
          this.source = source;
          return this.source.length;
        }
        @telemetry.track()
        get label(): string {
          return this.source;
        }
      }

      const work = async (): Promise<void> => {
        const vault = new Vault(secret(), { token: secret() });
        vault.open(secret(), bait(secret()));
        vault.open(bait(secret()), { [secret()]: secret() });
        vault.extra = secret();
        Vault.create(secret());
        const parser = new Parser();
        parser.parse(secret());
        expect(parser.label).toBe(secrets.at(-1));
        expect(() => vault.fail(secret())).toThrow();
        expect(() => vault.throwValue(bait(secret()))).toThrow();
        await expect(vault.failLater(secret())).rejects.toThrow();
        await expect(vault.rejectWith(new Error(secret()))).rejects.toThrow();
        await expect(vault.rejectWith(bait(secret()))).rejects.toBeDefined();
        expect(() => new Vault(secret(), null as unknown as { token: string })).toThrow(TypeError);
      };

      await work();
      await telemetry.flush();
      await work();
      await telemetry.shutdown();

      const counts = {
        'new Vault': 2,
        'Vault#open': 2,
        'Vault.create': 1,
        'Parser#parse': 1,
        'Parser#get label': 1,
        'Vault#fail': 1,
        'Vault#throwValue': 1,
        'Vault#failLater': 1,
        'Vault#rejectWith': 2,
      };
      const errors = { 'new Vault': 1, 'Vault#fail': 1, 'Vault#throwValue': 1 };
      expect(kit.reports).toHaveLength(2);
      expect(secrets).toHaveLength(2 * 16);
      const bytes = kit.reports.map((report) => JSON.stringify(report)).join('\n') + JSON.stringify(telemetry.status());
      expect(leaks(bytes, secrets)).toEqual([]);
      for (const report of kit.reports) expect(report).toMatchObject({ project: 'canary-kit', counts, errors });
      // Neither the paths of this test nor the machine's name leave either.
      const places = [process.cwd(), fileURLToPath(import.meta.url)];
      if (hostname().length >= 8) places.push(hostname());
      expect(places.filter((place) => bytes.includes(place))).toEqual([]);
    } finally {
      kit.uninstall();
    }
  });
});

describe('the fields of the usage level beyond counts', () => {
  it('carry no canary, no number given to record() and no string outside the allowed list', async () => {
    const kit = installTestKit();
    try {
      const secrets: string[] = [];
      const secret = (): string => {
        const s = canary();
        secrets.push(s);
        return s;
      };
      const telemetry = createTelemetry({ project: 'canary-signals', version: '1.0.0', level: 'full', dependencies: ['zod', 'no-such-package-here'] });
      const lib = telemetry.instrument(
        {
          take: (value: unknown) => String(value).length,
          later: async (value: unknown) => String(value).length,
          fail: (message: string) => {
            throw new Error(message);
          },
          Holder: class Holder {
            kept: unknown;
            constructor(value: unknown) {
              this.kept = value;
            }
            put(value: unknown): void {
              this.kept = value;
            }
          },
        },
        { time: true },
      );
      lib.take(secret());
      await lib.later(bait(secret()));
      expect(() => lib.fail(secret())).toThrow();
      new lib.Holder(secret()).put(bait(secret()));
      // Numbers that are no bucket's bound, long enough that no id or timestamp holds them by chance.
      const values = [123456789, 987654.321, 4242424242, 7777777];
      for (const value of values) telemetry.record('project.size', value);
      telemetry.choice('input.format', secret(), ['hic', 'cool']);
      telemetry.choice('input.format', bait(secret()), ['hic']);
      telemetry.choice('input.format', 'hic', ['hic']);
      await telemetry.shutdown();

      expect(kit.reports).toHaveLength(1);
      const report = kit.reports[0]!;
      expect(report.choices).toEqual({ 'input.format': { other: 2, hic: 1 } });
      expect(Object.keys(report.durations ?? {}).sort()).toEqual(['Holder#put', 'fail', 'later', 'take']);
      expect(report.numbers?.['project.size']).toBeDefined();
      expect(report.dependencies).toMatchObject({ 'no-such-package-here': null });
      const bytes = JSON.stringify(report);
      expect(leaks(bytes, secrets)).toEqual([]);
      expect(values.filter((value) => bytes.includes(String(value)))).toEqual([]);
      expect([process.cwd(), fileURLToPath(import.meta.url)].filter((place) => bytes.includes(place))).toEqual([]);
    } finally {
      kit.uninstall();
    }
  });
});

interface ChildRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runChild(args: string[], env: Record<string, string>, cwd: string): Promise<ChildRun> {
  const fixture = fileURLToPath(new URL('../fixtures/exit/canary-host.mjs', import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fixture, ...args], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Every file below `dir`, with its bytes. */
function filesBelow(dir: string): { path: string; bytes: Buffer }[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile())
    .map((path) => ({ path, bytes: readFileSync(path) }));
}

describe('reports written by a real process', () => {
  it('carry the counts and none of the canaries, in the show-me copy or in any file tallyho keeps', async () => {
    const hostSecrets = Array.from({ length: 20 }, canary);
    const envSecret = canary();
    // The working directory and tallyho's home are named with canaries too: no path may leave.
    const cwdSecret = canary();
    const homeSecret = canary();
    const cwd = join(root, cwdSecret);
    const home = join(root, homeSecret);
    const showMe = join(root, 'show-me.jsonl');
    mkdirSync(cwd);

    const { code, stdout, stderr } = await runChild(
      [JSON.stringify(hostSecrets)],
      {
        PATH: process.env.PATH ?? '',
        TALLYHO_OPTIN: 'canary-fixture',
        TALLYHO_HOME: home,
        TALLYHO_SHOW_ME: showMe,
        TALLYHO_DEBUG: '1',
        CANARY_ENV: envSecret,
      },
      cwd,
    );
    expect({ code, stderr: leaks(stderr, [...hostSecrets, envSecret]) }).toEqual({ code: 0, stderr: [] });
    // The host really had the canaries: its own output shows some.
    expect(leaks(stdout, hostSecrets)).not.toEqual([]);

    const raw = readFileSync(showMe);
    const reports = raw
      .toString('utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => ReportSchema.parse(JSON.parse(line)));
    expect(reports.map((r) => r.trigger)).toEqual(['manual', 'exit']);
    const all = [...hostSecrets, envSecret, cwdSecret, homeSecret];
    expect(leaks(raw, all)).toEqual([]);
    for (const report of reports) {
      expect(report).toMatchObject({
        project: 'canary-fixture',
        counts: {
          'new Vault': 2,
          'Vault#open': 3,
          'Vault.create': 1,
          'Parser#parse': 1,
          'Vault#fail': 1,
          'Vault#throwValue': 1,
          'Vault#failLater': 1,
          'Vault#rejectWith': 2,
        },
        errors: { 'new Vault': 1, 'Vault#fail': 1, 'Vault#throwValue': 1 },
      });
    }

    // Whatever tallyho keeps on disk (a spool of unsent reports, say) is checked byte for byte too.
    const kept = filesBelow(root).filter(({ path }) => path !== showMe);
    expect(kept.flatMap(({ path, bytes }) => leaks(bytes, all).map((secret) => `${path}: ${secret}`))).toEqual([]);
  });
});
