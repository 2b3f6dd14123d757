import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Packs the repository as it would be published, installs the tarball into a scratch project with no
// network, and uses it the ways a consumer can: import, require, TypeScript in both decorator modes
// and both module formats, the testing kit, the JSON Schema and the command.

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const fixtures = fileURLToPath(new URL('./consumer', import.meta.url));
const tsc = join(root, 'node_modules/typescript/bin/tsc');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };

/** Every file the exports map points at: packing without one of them would publish a broken package. */
const DIST_FILES = ['index.js', 'index.cjs', 'index.d.ts', 'index.d.cts', 'testing.js', 'testing.cjs', 'testing.d.ts', 'testing.d.cts', 'report.schema.json', 'cli.js', 'schema.js', 'schema.cjs', 'schema.d.ts', 'schema.d.cts', 'late.cjs', 'THIRD-PARTY-NOTICES'];

/**
 * CommonJS consumers compile with node16: nodenext now lets a CommonJS file require an ES module, so
 * it would accept ESM-flavoured declarations behind the `require` condition, which node16 rejects.
 */
const TS_VARIANTS = [
  { dir: 'ts-esm-tc39', type: 'module', module: 'nodenext', experimentalDecorators: false },
  { dir: 'ts-cjs-tc39', type: 'commonjs', module: 'node16', experimentalDecorators: false },
  { dir: 'ts-esm-legacy', type: 'module', module: 'nodenext', experimentalDecorators: true },
  { dir: 'ts-cjs-legacy', type: 'commonjs', module: 'node16', experimentalDecorators: true },
] as const;

let scratch: string;
let consumer: string;
let home: string;

/** Runs a program of the consumer with only the given tallyho settings, whatever the outer environment. */
async function node(script: string, tallyhoEnv: Record<string, string>): Promise<{ stdout: string; stderr: string }> {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('TALLYHO_') || key === 'DO_NOT_TRACK') delete env[key];
  return run(process.execPath, [script], { cwd: consumer, env: { ...env, ...tallyhoEnv } });
}

/** What a project in the consumer runs with: opted in (which wins over CI and test runners), shown, not sent. */
function shown(project: string): Record<string, string> {
  return { TALLYHO_OPTIN: project, TALLYHO_HOME: home, TALLYHO_SHOW_ME: '1', TALLYHO_DRY_RUN: '1' };
}

interface ShownReport {
  project: string;
  trigger: string;
  counts: Record<string, number>;
}

/** The reports `TALLYHO_SHOW_ME=1` wrote to stderr: one header line, then the report as one JSON line. */
function reportsIn(stderr: string): ShownReport[] {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as ShownReport);
}

beforeAll(async () => {
  const missing = DIST_FILES.filter((file) => !existsSync(join(root, 'dist', file)));
  if (missing.length > 0) throw new Error(`dist is incomplete (${missing.join(', ')} missing): run npm run build`);

  scratch = mkdtempSync(join(tmpdir(), 'tallyho-package-'));
  consumer = join(scratch, 'consumer');
  home = join(scratch, 'home');
  mkdirSync(consumer);
  mkdirSync(home);

  const packed = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', scratch], { cwd: root });
  const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }];
  writeFileSync(join(consumer, 'package.json'), `${JSON.stringify({ name: 'consumer', version: '1.0.0', private: true })}\n`);
  await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', join(scratch, filename)], { cwd: consumer });

  for (const file of ['hand-applied.cjs', 'esm.mjs', 'common.cjs', 'twins.mjs', 'kit.cjs', 'kit.mjs']) {
    copyFileSync(join(fixtures, file), join(consumer, file));
  }
  for (const variant of TS_VARIANTS) {
    const dir = join(consumer, variant.dir);
    mkdirSync(dir);
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ type: variant.type })}\n`);
    copyFileSync(join(fixtures, 'decorated.mts'), join(dir, 'main.ts'));
    const compilerOptions = {
      target: 'ES2022',
      module: variant.module,
      moduleResolution: variant.module,
      strict: true,
      // Type-check the installed declarations too, not only the consumer's code; TypeScript's own
      // libraries are trusted, which keeps four compilations within a few seconds.
      skipLibCheck: false,
      skipDefaultLibCheck: true,
      experimentalDecorators: variant.experimentalDecorators,
      rootDir: '.',
      outDir: 'out',
    };
    writeFileSync(join(dir, 'tsconfig.json'), `${JSON.stringify({ compilerOptions, files: ['main.ts'] }, null, 2)}\n`);
  }
  // Four compilers at once: the slowest part of the setup.
  await Promise.all(
    TS_VARIANTS.map((variant) =>
      run(process.execPath, [tsc, '-p', join(consumer, variant.dir)]).catch((error: { stdout?: string }) => {
        throw new Error(`tsc failed for ${variant.dir}:\n${error.stdout ?? String(error)}`);
      }),
    ),
  );
}, 90_000);

afterAll(() => {
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
});

const HAND_APPLIED_COUNTS = {
  'new Client': 2,
  'Client.create': 1,
  'Client#query': 3,
  'Parser#parse': 2,
  'new Engine': 2,
  'Engine.make': 1,
  'Engine#run': 2,
  'feature.export': 4,
};

describe('JavaScript consumers, decorators applied by hand', () => {
  it.each([
    { script: 'esm.mjs', project: 'consumer-esm', build: /\/node_modules\/tallyho\/dist\/index\.js$/ },
    { script: 'common.cjs', project: 'consumer-cjs', build: /[/\\]node_modules[/\\]tallyho[/\\]dist[/\\]index\.cjs$/ },
  ])('$script loads its own build, keeps behaviour, and reports exact counts at exit', async ({ script, project, build }) => {
    const { stdout, stderr } = await node(script, shown(project));
    const result = JSON.parse(stdout) as { enabled: boolean; resolved: string };
    expect(result).toMatchObject({
      enabled: true,
      lengths: [1, 2, 3],
      parsed: ['x', 'y'],
      ran: ['ran', 'ran'],
      names: ['Client', 'Engine'],
      instanceOf: true,
    });
    expect(result.resolved).toMatch(build);
    const reports = reportsIn(stderr);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ project, trigger: 'exit' });
    expect(reports[0]!.counts).toEqual(HAND_APPLIED_COUNTS);
  });
});

describe('TypeScript consumers, compiled against the installed types', () => {
  it.each(TS_VARIANTS)('$dir runs and reports exact counts', async (variant) => {
    const output = join(consumer, variant.dir, 'out', 'main.js');
    const emitted = readFileSync(output, 'utf8');
    // The format and the decorator mode the output was compiled for.
    expect(emitted).toMatch(variant.type === 'module' ? /^import .* from 'tallyho';$/m : /require\("tallyho"\)/);
    expect(emitted.includes('__decorate(')).toBe(variant.experimentalDecorators);

    const { stdout, stderr } = await node(output, shown('consumer-ts'));
    expect(JSON.parse(stdout)).toEqual([1, 2, 3, 'p', 'q', true, '1', true, 'Client']);
    const reports = reportsIn(stderr);
    expect(reports).toHaveLength(1);
    expect(reports[0]!.counts).toEqual({
      'new Client': 2,
      'Client.create': 1,
      'Client#query': 3,
      'Parser#parse': 2,
      'Parser#get ready': 1,
      'Parser.version': 1,
    });
  });
});

describe('entry points', () => {
  it('require("tallyho/testing") turns telemetry on under the kit; tallyho/schema and the JSON Schema resolve', async () => {
    const { stdout } = await node('kit.cjs', {});
    const result = JSON.parse(stdout) as { schemaPath: string };
    expect(result).toMatchObject({ counts: { 'kit.used': 2 }, memory: 'memory', schemaHasCounts: true, valid: true, countlessValid: false });
    const schema = JSON.parse(readFileSync(result.schemaPath, 'utf8')) as { properties: { counts?: unknown } };
    expect(schema.properties.counts).toBeTypeOf('object');
  });

  it('import("tallyho/testing") takes the reports of a telemetry built by the other bundle', async () => {
    const { stdout } = await node('kit.mjs', {});
    const result = JSON.parse(stdout) as { resolved: string; schemaUrl: string };
    expect(result).toMatchObject({ reported: [{ 'kit.used': 2 }], memory: 'memory', valid: true, otherVersionValid: false });
    expect(result.resolved).toMatch(/\/node_modules\/tallyho\/dist\/testing\.js$/);
    const schema = JSON.parse(readFileSync(new URL(result.schemaUrl), 'utf8')) as { properties: { counts?: unknown } };
    expect(schema.properties.counts).toBeTypeOf('object');
  });

  it('npx tallyho --version prints the package version', async () => {
    const { stdout } = await run('npx', ['--no', '--', 'tallyho', '--version'], { cwd: consumer });
    expect(stdout.trim()).toBe(version);
  });
});

describe('ESM and CommonJS builds in one process', () => {
  it('share one counter table and produce exactly one report with the summed counts', async () => {
    const { stdout, stderr } = await node('twins.mjs', shown('twins'));
    expect(JSON.parse(stdout)).toEqual({ distinct: true });
    const reports = reportsIn(stderr);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ project: 'twins', trigger: 'exit' });
    expect(reports[0]!.counts).toEqual({ shared: 5, 'new Widget': 1, 'Widget#ping': 2 });
  });
});
