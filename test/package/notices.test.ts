import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dist = join(root, 'dist');

/**
 * The packages whose code is in the built files, read from what each file is made of (its source map
 * lists every input), independently of how the build writes the notices.
 */
function bundledPackages(): Set<string> {
  const packages = new Set<string>();
  for (const file of readdirSync(dist).filter((name) => name.endsWith('.map'))) {
    const { sources } = JSON.parse(readFileSync(join(dist, file), 'utf8')) as { sources: string[] };
    for (const source of sources) {
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(source.split('\\').join('/'));
      if (match) packages.add(match[1]!);
    }
  }
  return packages;
}

it('THIRD-PARTY-NOTICES names every bundled package with its version, license and license text', () => {
  const notices = readFileSync(join(dist, 'THIRD-PARTY-NOTICES'), 'utf8');
  const packages = bundledPackages();
  // The runtime code tallyho bundles today; a new one must bring its notice along.
  expect([...packages].sort()).toEqual(expect.arrayContaining(['ci-info', 'zod']));
  for (const name of packages) {
    const dir = join(root, 'node_modules', name);
    const { version, license } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string; license: string };
    expect(notices).toContain(`${name}@${version} (${license})`);
    const licenseFile = readdirSync(dir).find((f) => /^licen[cs]e(\.(md|txt))?$/i.test(f));
    expect(licenseFile, `${name} ships a license file`).toBeDefined();
    expect(notices).toContain(readFileSync(join(dir, licenseFile!), 'utf8').trim());
  }
  // And nothing that is not bundled.
  const named = [...notices.matchAll(/^(\S+)@\d\S* \(/gm)].map((m) => m[1]);
  expect(named.sort()).toEqual([...packages].sort());
});

it('ships in the package, beside the bundles', () => {
  const packed = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' });
  const [{ files }] = JSON.parse(packed) as [{ files: { path: string }[] }];
  expect(files.map((f) => f.path)).toEqual(expect.arrayContaining(['dist/THIRD-PARTY-NOTICES', 'dist/late.cjs', 'dist/index.js']));
});
