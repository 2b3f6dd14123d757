// Keeps the stages of src/ layered: a module may import from its own folder and from folders of lower
// layers, never from a higher one (DESIGN.md: each stage is a folder; a stage knows only the ones
// before it). Run by `npm run lint`; `node scripts/check-layers.mjs [srcDir]` prints each violation.
//
// Written here rather than taken from eslint-plugin-import (`import/no-restricted-paths`): that plugin
// and its resolver are a large dependency for one rule, and this needs no resolver: every import in
// src/ is relative. TypeScript's own pre-processor finds the imports (static, dynamic, re-exports).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * The layers, lowest first. A folder of src/ is named by its name; a file of src/ itself by its name
 * without extension; `*` stands for every other file of src/ itself: the entry points and the wiring, which sit
 * on top. A folder or file that is in no layer is reported, so that a new one gets a place here.
 */
export const LAYERS = [
  ['version'], // a constant the build writes
  ['runtime'], // what differs between Node, Bun, Deno, browsers and workers
  ['config'], // the environment, the home's files, levels, logging, lazily loaded built-ins
  ['registry'], // the counter table
  ['decorators'], // track(): counts into the table
  ['consent'], // on or off, and why
  ['identity'], // salted ids
  ['report'], // a delta made a report; the wire contract
  ['transports'], // where reports go
  ['delivery'], // exit, spool, settle, the sender's launch
  ['cli'], // the tallyho command
  ['*', 'runtime/web'], // entry points and wiring: index, telemetry, options, sender, the web entry's wiring
];

/** The part of src/ a path (relative to src/) belongs to: its folder, or the file itself at the top. */
function partOf(path) {
  const [first, second] = path.split(sep);
  // A sub-folder that a layer names is a part of its own (runtime/web is wiring, runtime/ is not).
  if (second !== undefined && LAYERS.some((layer) => layer.includes(`${first}/${second}`))) return `${first}/${second}`;
  // A file is named without its extension: sources import `./version.js` for `version.ts`.
  return first.replace(/\.[cm]?[jt]s$/, '');
}

function layerOf(part, isFile) {
  const index = LAYERS.findIndex((layer) => layer.includes(part));
  if (index >= 0) return index;
  return isFile ? LAYERS.findIndex((layer) => layer.includes('*')) : -1;
}

function* sources(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sources(path);
    else if (/\.(?:ts|mts|cts)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) yield path;
  }
}

/** Every import that goes from a lower layer to a higher one, or involves a part in no layer. */
export function layerViolations(srcDir) {
  const root = resolve(srcDir);
  const problems = [];
  for (const file of sources(root)) {
    const from = relative(root, file);
    const fromPart = partOf(from);
    const fromIsFile = !from.includes(sep);
    const fromLayer = layerOf(fromPart, fromIsFile);
    if (fromLayer < 0) {
      problems.push(`${from}: the folder ${fromPart}/ is in no layer of scripts/check-layers.mjs`);
      continue;
    }
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName: specifier } of importedFiles) {
      if (!specifier.startsWith('.')) continue;
      const target = relative(root, resolve(dirname(file), specifier));
      if (target.startsWith('..')) continue;
      const toPart = partOf(target);
      if (toPart === fromPart && !fromIsFile) continue;
      const toLayer = layerOf(toPart, !target.includes(sep));
      if (toLayer < 0) problems.push(`${from}: imports ${specifier}, whose folder is in no layer`);
      else if (toLayer > fromLayer) {
        problems.push(`${from}: imports ${specifier}, a higher layer (${LAYERS[fromLayer].join()} may import only from ${LAYERS.slice(0, fromLayer).flat().join(', ') || 'nothing'})`);
      }
    }
  }
  return problems;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const srcDir = process.argv[2] ?? fileURLToPath(new URL('../src/', import.meta.url));
  const problems = layerViolations(srcDir);
  for (const problem of problems) console.error(`layers: ${problem}`);
  if (problems.length > 0) process.exit(1);
}
