import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { callerDirectory, dependencyVersions } from '../../src/report/dependencies.js';
import type { Report } from '../../src/report/report.js';
import { createTelemetry } from '../../src/telemetry.js';
import { useTestKit } from './kit.js';

const { kit, fresh, flushOne } = useTestKit('signals');

const root = mkdtempSync(join(tmpdir(), 'tallyho-signals-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('record()', () => {
  it('counts each number in its bucket, never the number', async () => {
    const { telemetry, project } = fresh();
    for (const n of [0, 1, 5, 6, 7, 1000, 123_456_789]) telemetry.record('project.files', n);
    telemetry.record('project.bytes', 2.5);
    expect(kit().counts(project).numbers).toEqual({ 'project.files': { '0': 1, '1': 1, '7': 3, '1023': 1, '134217727': 1 }, 'project.bytes': { '3': 1 } });
    const report = await flushOne(telemetry, project);
    expect(report.numbers).toEqual({ 'project.files': { '0': 1, '1': 1, '7': 3, '1023': 1, '134217727': 1 }, 'project.bytes': { '3': 1 } });
    expect(JSON.stringify(report)).not.toContain('123456789');
    expect(report.counts).toEqual({});
    // The next period starts from nothing.
    telemetry.count('x');
    expect((await flushOne(telemetry, project)).numbers).toBeUndefined();
  });

  it('drops a bad value or name as invalid, and names past the cap as overflow, without throwing', async () => {
    const { telemetry, project } = fresh({ maxNames: 2 });
    for (const bad of [-1, Number.NaN, Infinity, '12' as unknown as number, undefined as unknown as number]) telemetry.record('size', bad);
    telemetry.record('', 3);
    telemetry.record('bad\nname', 3);
    telemetry.record('a', 1);
    telemetry.record('b', 1);
    telemetry.record('c', 1);
    const report = await flushOne(telemetry, project);
    expect(report.dropped).toEqual({ invalid: 7, overflow: 1 });
    expect(report.numbers).toEqual({ a: { '1': 1 }, b: { '1': 1 } });
  });
});

describe('choice()', () => {
  it('counts an allowed value as itself and anything else as other', async () => {
    const { telemetry, project } = fresh();
    const allowed = ['hic', 'mcool', 'cool'] as const;
    for (const format of ['hic', 'hic', 'cool', 'secret-user-file.xyz', 42, undefined, { toString: () => 'hic' }]) {
      telemetry.choice('input.format', format, allowed);
    }
    expect(kit().counts(project).choices).toEqual({ 'input.format': { hic: 2, cool: 1, other: 4 } });
    const report = await flushOne(telemetry, project);
    expect(report.choices).toEqual({ 'input.format': { hic: 2, cool: 1, other: 4 } });
    expect(JSON.stringify(report)).not.toContain('secret-user-file');
  });

  it('drops a call with a bad name or allowed list as invalid', async () => {
    const { telemetry, project } = fresh();
    telemetry.choice('mode', 'a', 'a' as unknown as string[]);
    telemetry.choice('', 'a', ['a']);
    const report = await flushOne(telemetry, project);
    expect(report.dropped).toEqual({ invalid: 2 });
    expect(report.choices).toBeUndefined();
  });
});

describe('dependencies', () => {
  it('reports the installed version of each listed package, resolved from the calling file, null where missing', async () => {
    const { telemetry, project } = fresh({ dependencies: ['zod', 'vitest', 'surely-not-installed-package'] });
    telemetry.count('x');
    const report = await flushOne(telemetry, project);
    const installed = (name: string) => (JSON.parse(readFileSync(join('node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
    expect(report.dependencies).toEqual({ zod: installed('zod'), vitest: installed('vitest'), 'surely-not-installed-package': null });
  });

  it('are resolved as Node resolves them: the nearest node_modules up from the author package', () => {
    const app = join(root, 'app');
    const write = (dir: string, name: string, version: unknown) => {
      mkdirSync(join(dir, 'node_modules', name), { recursive: true });
      writeFileSync(join(dir, 'node_modules', name, 'package.json'), JSON.stringify({ name, version }));
    };
    write(app, 'react', '18.3.1');
    write(app, '@acme/core', '2.0.0-beta.1');
    write(app, 'odd', 'not a version /home/someone');
    const author = join(app, 'node_modules', 'acme-sdk', 'dist');
    mkdirSync(author, { recursive: true });
    write(join(app, 'node_modules', 'acme-sdk'), 'react', '17.0.2');
    expect(dependencyVersions(['react', '@acme/core', 'odd', 'absent'], author)).toEqual({
      react: '17.0.2',
      '@acme/core': '2.0.0-beta.1',
      odd: null,
      absent: null,
    });
    expect(dependencyVersions(['react'], join(app, 'src'))).toEqual({ react: '18.3.1' });
  });

  it("take the calling file's folder from a stack trace, in either form", () => {
    const file = join(root, 'pkg', 'index.js');
    expect(callerDirectory(`Error\n    at Object.<anonymous> (${file}:3:9)\n    at Module._compile (node:internal)`)).toBe(join(root, 'pkg'));
    expect(callerDirectory(`Error\n    at ${pathToFileURL(file).href}:1:1`)).toBe(join(root, 'pkg'));
    expect(callerDirectory(`Error\n    at async ${pathToFileURL(file).href}:1:1`)).toBe(join(root, 'pkg'));
    expect(callerDirectory('Error')).toBeUndefined();
    expect(callerDirectory(undefined)).toBeUndefined();
    expect(callerDirectory('Error\n    at <anonymous>')).toBeUndefined();
  });

  it('reject a list that is not of package names, at the author’s desk', () => {
    expect(() => createTelemetry({ project: 'deps-bad', version: '1.0.0', dependencies: ['../etc/passwd'] })).toThrow(/option "dependencies/);
    expect(() => createTelemetry({ project: 'deps-bad', version: '1.0.0', dependencies: 'react' as unknown as string[] })).toThrow(/option "dependencies"/);
  });
});

describe('the new fields, by level', () => {
  it('are all absent from a basic report, and present at usage', async () => {
    const reports: Partial<Record<'basic' | 'usage', Report>> = {};
    for (const level of ['basic', 'usage'] as const) {
      const project = `signals-level-${level}`;
      const telemetry = createTelemetry({ project, version: '1.0.0', level, dependencies: ['zod'] });
      const { work } = telemetry.instrument({ work: () => 1 }, { time: true });
      work();
      telemetry.record('size', 3);
      telemetry.choice('mode', 'fast', ['fast']);
      reports[level] = await flushOne(telemetry, project);
    }
    for (const field of ['durations', 'numbers', 'choices', 'dependencies'] as const) {
      expect(reports.basic).not.toHaveProperty(field);
      expect(reports.usage).toHaveProperty(field);
    }
    expect(reports.basic!.counts).toEqual({ work: 1 });
  });
});
