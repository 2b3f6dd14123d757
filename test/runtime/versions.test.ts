import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MINIMUM_VERSIONS } from '../../src/runtime/support.js';
import { runtimeVersion } from './runtimes.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { engines: Record<string, string> };
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('the minimum versions: stated in engines and README, and the ones the suite runs', () => {
  it.each(['bun', 'deno'] as const)('%s: the version the tests run is the minimum stated', async (name) => {
    const installed = await runtimeVersion(name);
    expect(MINIMUM_VERSIONS[name]).toBe(installed);
    expect(pkg.engines[name]).toBe(`>=${installed}`);
    expect(readme).toContain(`| ${name === 'bun' ? 'Bun' : 'Deno'} ≥ ${installed} `);
  });

  it('node: engines and README say what tallyho checks', () => {
    expect(pkg.engines.node).toBe(`>=${MINIMUM_VERSIONS.node.replace(/\.0$/, '')}`);
    expect(readme).toContain(`| Node ≥ ${MINIMUM_VERSIONS.node.replace(/\.0$/, '')} |`);
  });
});
