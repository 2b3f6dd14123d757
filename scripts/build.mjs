// Builds the package: ESM and CommonJS bundles of every entry, bundled declarations for each, and the
// report's JSON Schema, and THIRD-PARTY-NOTICES. Runtime dependencies are bundled: one file loads in a
// fraction of the time that resolving packages takes, and embedders inherit no dependency tree.
// ci-info's vendor list included: read from an installed ci-info at run time (so that its updates
// would reach users without a tallyho release), resolving it cost every host 2 to 3.5 ms of CPU at
// start-up here (Node's resolver, first used; reading and parsing the list, 0.5 ms), against about
// 0.1 ms bundled. Each tallyho build takes the newest ci-info in its range.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { rollup } from 'rollup';
import { dts } from 'rollup-plugin-dts';

const entries = ['index', 'testing', 'otel', 'schema'];
const typedEntries = [...entries, 'web'];

// `import process from 'node:process'` (a bundled dependency may do it) makes Node's ESM loader read every property
// of `process` to build the module's exports, which creates the stdout and stderr streams and loads
// the stream modules: a few milliseconds of every host's start-up. The global is the same object.
const processGlobal = {
  name: 'process-global',
  setup(b) {
    b.onResolve({ filter: /^(node:)?process$/ }, () => ({ path: 'process', namespace: 'process-global' }));
    b.onLoad({ filter: /.*/, namespace: 'process-global' }, () => ({ contents: 'export default globalThis.process;', loader: 'js' }));
  },
};

// Likewise an ESM `import ... from 'node:fs'` builds the whole module namespace, running its lazy
// getters (the stream classes): about 5 ms. The ESM bundles take built-ins from
// process.getBuiltinModule() instead, exporting their plain (non-getter) members by name.
const builtinsByGetter = {
  name: 'builtins-by-getter',
  setup(b) {
    b.onResolve({ filter: /^node:(fs|os|path|url)$/ }, (args) => ({ path: args.path, namespace: 'builtin' }));
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, async (args) => {
      const module = await import(args.path);
      const names = Object.keys(module.default).filter(
        (name) => /^[A-Za-z_$][\w$]*$/.test(name) && 'value' in Object.getOwnPropertyDescriptor(module.default, name),
      );
      const contents = [
        // Where there is no getBuiltinModule (Bun 1.1, a browser, a worker), importing still
        // succeeds, and createTelemetry() turns itself off (unsupported-runtime) before any built-in
        // is used: the module is a stand-in whose every member is another stand-in, callable, and 0
        // in arithmetic, so that module-level code such as `constants.O_RDONLY | x` cannot throw.
        'const absent = new Proxy(function () {}, { get: (_, key) => (key === Symbol.toPrimitive ? () => 0 : absent), apply: () => absent, construct: () => absent });',
        `const m = globalThis.process?.getBuiltinModule?.(${JSON.stringify(args.path)}) ?? absent;`,
        'export default m;',
        ...names.map((name) => `export const ${name} = m.${name};`),
      ].join('\n');
      return { contents, loader: 'js' };
    });
  },
};

// What only reporting needs (src/late.ts) is its own CommonJS file, dist/late.cjs, which both bundles
// require on first use: synchronously, because at exit an ES module can no longer `import()`. One
// CommonJS file serves both formats, so a process that loads both twins loads the late code once.
// src/load-late.ts imports it statically (for tests, which run the sources); here it is replaced.
const lateLoader = (format) => ({
  name: 'late-loader',
  setup(b) {
    b.onResolve({ filter: /[\\/]load-late\.js$/ }, () => ({ path: 'load-late', namespace: 'late-loader' }));
    b.onLoad({ filter: /.*/, namespace: 'late-loader' }, () => ({
      loader: 'js',
      contents:
        format === 'cjs'
          ? // A literal require: a host that bundles the CommonJS build takes the late code in with it.
            `let late; export function loadLate() { return (late ??= require('./late.cjs')); } export function lateAvailable() { return true; }`
          : `const url = new URL('./late.cjs', import.meta.url);
             let late;
             export function loadLate() { return (late ??= globalThis.process.getBuiltinModule('node:module').createRequire(import.meta.url)('./late.cjs')); }
             export function lateAvailable() { try { return globalThis.process.getBuiltinModule('node:fs').existsSync(url); } catch { return false; } }`,
    }));
    b.onResolve({ filter: /^\.\/late\.cjs$/ }, () => ({ path: './late.cjs', external: true }));
  },
});

// The late code validates a report with the package's own tallyho/schema file, required when a report
// is about to be sent: zod (a third of late.cjs, 2.5 to 3 ms of CPU to load here) stays off the exit
// path, which only spools, and a receiver in the same process shares the one copy.
const schemaLoader = {
  name: 'schema-loader',
  setup(b) {
    b.onResolve({ filter: /[\\/]load-schema\.js$/ }, () => ({ path: 'load-schema', namespace: 'schema-loader' }));
    b.onLoad({ filter: /.*/, namespace: 'schema-loader' }, () => ({
      loader: 'js',
      contents: `let schema; export function loadSchema() { return (schema ??= require('./schema.cjs')); }`,
    }));
    b.onResolve({ filter: /^\.\/schema\.cjs$/ }, () => ({ path: './schema.cjs', external: true }));
  },
};

// Minified: a host parses every byte of tallyho at start-up. Minifying halves the bytes (189 KB to
// 97 KB for the main bundle) and took 1 to 2 ms off its import here. The linked source maps (positions
// only, no copy of the sources) let `node --enable-source-maps` name tallyho's own files and lines.
const minified = { minify: true, sourcemap: 'linked', sourcesContent: false };

const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
const define = { __TALLYHO_VERSION__: JSON.stringify(version) };
const external = ['@opentelemetry/api'];

/** The directory of every package whose code went into a file of dist/, for the license notices. */
const bundledPackages = new Set();

/** esbuild's build, for files of dist/: also notes which packages' code it bundled. */
async function bundle(options) {
  const result = await build({ ...options, metafile: true });
  for (const input of Object.keys(result.metafile.inputs)) {
    const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match) bundledPackages.add(match[1]);
  }
  return result;
}

/**
 * dist/THIRD-PARTY-NOTICES: each bundled package's name, version, license and license text. The MIT
 * and ISC licenses ask for their notice in every copy, and the minified bundles keep none of it.
 */
function writeNotices() {
  const sections = [...bundledPackages].sort().map((dir) => {
    const { name, version, license } = JSON.parse(readFileSync(`${dir}/package.json`, 'utf8'));
    const file = readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.(md|txt))?$/i.test(f));
    if (file === undefined) throw new Error(`${name} is bundled but ships no license file: its notice cannot be included`);
    return `${name}@${version} (${license})\n\n${readFileSync(`${dir}/${file}`, 'utf8').trim()}\n`;
  });
  const head =
    'tallyho bundles code of the packages below into its files in dist/. Their licenses and notices follow.\n';
  writeFileSync('dist/THIRD-PARTY-NOTICES', [head, ...sections].join(`\n${'-'.repeat(72)}\n\n`));
}

rmSync('dist', { recursive: true, force: true });
rmSync('build', { recursive: true, force: true });

for (const format of ['esm', 'cjs']) {
  await bundle({
    entryPoints: Object.fromEntries(entries.map((e) => [e, `src/${e}.ts`])),
    outdir: 'dist',
    outExtension: { '.js': format === 'esm' ? '.js' : '.cjs' },
    bundle: true,
    format,
    platform: 'node',
    target: 'node20',
    external,
    treeShaking: true,
    plugins: format === 'esm' ? [processGlobal, builtinsByGetter, lateLoader(format)] : [processGlobal, lateLoader(format)],
    legalComments: 'linked',
    ...minified,
    define,
    // The CommonJS twin finds the sender beside itself through this; the ESM build uses import.meta.url.
    banner: format === 'cjs' ? { js: 'var __tallyhoModuleFile = __filename;' } : {},
    logOverride: { 'empty-import-meta': 'silent' },
    logLevel: 'warning',
  });
}

await bundle({
  entryPoints: { late: 'src/late.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external,
  plugins: [processGlobal, schemaLoader],
  ...minified,
  define,
  banner: { js: 'var __tallyhoModuleFile = __filename;' },
  logLevel: 'warning',
});

// The web entry (browsers, web workers, edge workers): built for the browser, where the Node entry's
// random source (/dev/urandom, node:crypto) is Web Crypto instead. The modules it shares with the Node
// entry import Node built-ins only in code the web entry never reaches: each built-in is an empty
// module without side effects here, so an unused import of one disappears, and the build fails if
// the bundle still holds one.
const NODE_IN_WEB = '__tallyho_node_builtin_in_web_entry__';
const webModules = {
  name: 'web-modules',
  setup(b) {
    b.onResolve({ filter: /[\\/]config[\\/]random\.js$/ }, () => ({ path: resolvePath('src/runtime/web/random.ts') }));
    b.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, namespace: 'node-in-web', sideEffects: false }));
    b.onLoad({ filter: /.*/, namespace: 'node-in-web' }, () => ({ contents: `module.exports = { ${NODE_IN_WEB}: true };`, loader: 'js' }));
  },
};
for (const format of ['esm', 'cjs']) {
  const { outputFiles } = await bundle({
    entryPoints: { web: 'src/web.ts' },
    outdir: 'dist',
    outExtension: { '.js': format === 'esm' ? '.js' : '.cjs' },
    bundle: true,
    format,
    platform: 'browser',
    target: 'es2022',
    external,
    treeShaking: true,
    plugins: [webModules],
    legalComments: 'linked',
    ...minified,
    define,
    logLevel: 'warning',
    write: false,
  });
  for (const file of outputFiles) {
    if (file.text.includes(NODE_IN_WEB)) throw new Error(`${file.path}: the web entry uses a Node built-in`);
    mkdirSync(dirname(file.path), { recursive: true });
    writeFileSync(file.path, file.contents);
  }
}

// The command and the detached sender: ESM programs, each one file.
await bundle({
  entryPoints: { cli: 'src/cli/main.ts', sender: 'src/sender.ts' },
  outdir: 'dist',
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external,
  ...minified,
  define,
  logLevel: 'warning',
});
chmodSync('dist/cli.js', 0o755);
writeNotices();

execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
for (const entry of typedEntries) {
  const bundle = await rollup({ input: `build/types/${entry}.d.ts`, plugins: [dts()], external });
  await bundle.write({ file: `dist/${entry}.d.ts`, format: 'es' });
  await bundle.write({ file: `dist/${entry}.d.cts`, format: 'es' });
  await bundle.close();
}

// The report's JSON Schema, generated from the zod schema that validates every report.
mkdirSync('build', { recursive: true });
await build({
  stdin: {
    contents: `import { toJSONSchema } from 'zod/mini'; import { reportZodSchema } from './src/report/schema.ts';
      export const schema = toJSONSchema(reportZodSchema(), { io: 'input' });`,
    resolveDir: '.',
    loader: 'ts',
  },
  outfile: 'build/json-schema.mjs',
  bundle: true,
  format: 'esm',
  platform: 'node',
  logLevel: 'warning',
});
const { schema } = await import(pathToFileURL('build/json-schema.mjs').href);
writeFileSync(
  'dist/report.schema.json',
  `${JSON.stringify({ ...schema, $id: 'https://unpkg.com/tallyho/dist/report.schema.json', title: 'tallyho report' }, null, 2)}\n`,
);
