import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readEnv } from '../../src/config/env.js';
import { resolveHome } from '../../src/config/home.js';

describe('resolveHome: where tallyho keeps its files', () => {
  it('TALLYHO_HOME holds everything', () => {
    expect(resolveHome('/srv/th', { XDG_CONFIG_HOME: '/x' })).toEqual({ config: '/srv/th', cache: '/srv/th/cache' });
  });

  it.runIf(process.platform === 'linux')('the XDG folders on Linux, from the environment env.ts read', () => {
    expect(resolveHome(undefined, {})).toEqual({ config: join(homedir(), '.config/tallyho'), cache: join(homedir(), '.cache/tallyho') });
    const env = readEnv({ XDG_CONFIG_HOME: '/cfg', XDG_CACHE_HOME: ' /cache ', APPDATA: 'C:\\x' }, false);
    expect(resolveHome(env.home, env.folders)).toEqual({ config: '/cfg/tallyho', cache: '/cache/tallyho' });
    // Blank means unset, as everywhere.
    const blank = readEnv({ XDG_CONFIG_HOME: '  ' }, false);
    expect(resolveHome(blank.home, blank.folders).config).toBe(join(homedir(), '.config/tallyho'));
  });
});
