import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PACKAGE_VERSION } from '../config/package-names.js';

/**
 * The folder of the file that called `createTelemetry`: the author's package, which the listed
 * dependencies are resolved from. Read from a stack trace captured there (`Error.captureStackTrace`
 * with `createTelemetry` as the cut-off, so its first frame is the caller). `undefined` when the host
 * turned stack traces off (`Error.stackTraceLimit = 0`) or the frame names no file.
 */
export function callerDirectory(stack: string | undefined): string | undefined {
  const frame = stack?.split('\n').find((line) => /^\s+at /.test(line));
  if (frame === undefined) return undefined;
  // `at fn (file:line:col)` or `at file:line:col`; the location is the last part in parentheses.
  const inParens = /\(([^()]*)\)\s*$/.exec(frame)?.[1];
  const location = (inParens ?? frame.replace(/^\s+at\s+(async\s+)?/, '')).replace(/:\d+:\d+$/, '');
  try {
    if (location.startsWith('file://')) return dirname(fileURLToPath(location));
  } catch {
    return undefined;
  }
  return /^(\/|[A-Za-z]:[\\/]|\\\\)/.test(location) ? dirname(location) : undefined;
}

/**
 * The installed version of each package, as Node would resolve it from `from`: the first
 * `node_modules/<name>/package.json` in `from` or a folder above it (a package's own exports do not
 * matter: only its manifest is read). `null` where it is not installed or its version is not a
 * version; nothing else from the manifest is kept, and no path leaves this function.
 */
export function dependencyVersions(names: readonly string[], from: string): Record<string, string | null> {
  const versions: Record<string, string | null> = {};
  for (const name of names) versions[name] = installedVersion(name, from);
  return versions;
}

function installedVersion(name: string, from: string): string | null {
  for (let dir = from; ; dir = dirname(dir)) {
    // As Node does, no `node_modules/node_modules` is looked in.
    if (basename(dir) !== 'node_modules') {
      const version = readVersion(join(dir, 'node_modules', name, 'package.json'));
      if (version !== undefined) return version;
    }
    if (dirname(dir) === dir) return null;
  }
}

/** The version in a manifest; `undefined` when there is no readable manifest, `null` for a bad version. */
function readVersion(file: string): string | null | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const version = (JSON.parse(text) as { version?: unknown }).version;
    return typeof version === 'string' && PACKAGE_VERSION.test(version) ? version : null;
  } catch {
    return null;
  }
}
