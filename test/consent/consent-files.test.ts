import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readEnv } from '../../src/config/env.js';
import { FILE_FORMAT } from '../../src/config/files.js';
import { type Home, homePaths, resolveHome } from '../../src/config/home.js';
import { DIRECTORY_FILE, readConsentFiles, writeGlobalSwitch, writeProjectConsent } from '../../src/consent/consent-files.js';
import { type ConsentFiles, decideConsent } from '../../src/consent/decide.js';
import { runUnprivileged } from '../fixtures/unprivileged/run.js';

const root = mkdtempSync(join(tmpdir(), 'tallyho-consent-files-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let made = 0;
/** A fresh folder tree: a home that does not exist yet, and a working directory. */
function fresh(): { home: Home; dir: string; cwd: string } {
  const dir = join(root, String(made++));
  const cwd = join(dir, 'work');
  mkdirSync(cwd, { recursive: true });
  return { home: resolveHome(join(dir, 'home')), dir, cwd };
}

const P = 'acme-sdk';
const decide = (home: Home, cwd: string, project = P) =>
  decideConsent(readEnv({}, false), readConsentFiles(home, project, cwd), { project, consent: 'opt-out' });

describe('readConsentFiles', () => {
  it('finds nothing in a fresh home and directory, and the decision is on', () => {
    const { home, cwd } = fresh();
    expect(readConsentFiles(home, P, cwd)).toEqual({ globalDisabled: false, project: undefined, directoryFile: undefined, unreadable: [] });
    expect(decide(home, cwd).rule).toBe('default-on');
    // Reading writes nothing.
    expect(existsSync(home.config)).toBe(false);
  });

  it('finds .tallyho-do-not-track in the working directory', () => {
    const { home, cwd } = fresh();
    writeFileSync(join(cwd, DIRECTORY_FILE), '');
    expect(readConsentFiles(home, P, cwd).directoryFile).toBe(join(cwd, DIRECTORY_FILE));
    const decision = decide(home, cwd);
    expect(decision).toMatchObject({ enabled: false, rule: 'directory-file' });
    expect(decision.reason).toContain(join(cwd, DIRECTORY_FILE));
  });

  it('finds .tallyho-do-not-track in an ancestor of the working directory, for every project', () => {
    const { home, dir } = fresh();
    const deep = join(dir, 'repo', 'packages', 'app', 'src');
    mkdirSync(deep, { recursive: true });
    writeFileSync(join(dir, 'repo', DIRECTORY_FILE), 'we do not report from this repository\n');
    expect(readConsentFiles(home, P, deep).directoryFile).toBe(join(dir, 'repo', DIRECTORY_FILE));
    expect(decide(home, deep, 'other-lib').rule).toBe('directory-file');
    // A sibling tree is not covered.
    const sibling = join(dir, 'elsewhere');
    mkdirSync(sibling);
    expect(readConsentFiles(home, P, sibling).directoryFile).toBeUndefined();
  });

  it.each([
    ['invalid JSON', '{"format": 1, "disabled": tru', 'invalid JSON'],
    ['a newer format', JSON.stringify({ format: FILE_FORMAT + 1, disabled: false }), `format ${FILE_FORMAT + 1}`],
    ['no format version', JSON.stringify({ disabled: false }), 'no format version'],
    ['not an object', '[]', 'not a JSON object'],
  ])('a settings file with %s is unreadable, and the decision is off', (_what, text, why) => {
    const { home, cwd } = fresh();
    mkdirSync(home.config, { recursive: true });
    writeFileSync(homePaths.settings(home), text);
    const files = readConsentFiles(home, P, cwd);
    expect(files.globalDisabled).toBe('unreadable');
    expect(files.unreadable.join()).toContain(homePaths.settings(home));
    expect(files.unreadable.join()).toContain(why);
    const decision = decide(home, cwd);
    expect(decision).toMatchObject({ enabled: false, rule: 'unreadable-file' });
    expect(decision.reason).toContain(homePaths.settings(home));
    // Left alone: a newer tallyho may own it.
    expect(readFileSync(homePaths.settings(home), 'utf8')).toBe(text);
  });

  it.each([
    ['invalid JSON', 'nope'],
    ['a newer format', JSON.stringify({ format: FILE_FORMAT + 1, consent: 'in' })],
    ['an unknown consent value', JSON.stringify({ format: FILE_FORMAT, consent: 'maybe' })],
  ])("a project's consent file with %s is unreadable, and that project is off", (_what, text) => {
    const { home, cwd } = fresh();
    mkdirSync(join(home.config, 'consent'), { recursive: true });
    writeFileSync(homePaths.consent(home, P), text);
    const files = readConsentFiles(home, P, cwd);
    expect(files.project).toBe('unreadable');
    expect(files.unreadable.join()).toContain(homePaths.consent(home, P));
    expect(decide(home, cwd).rule).toBe('unreadable-file');
    // Another project's decision does not depend on that file.
    expect(decide(home, cwd, 'other-lib').rule).toBe('default-on');
  });
});

describe('readConsentFiles: a directory tree that cannot be searched', () => {
  it('is unreadable, and the decision is off (run as a user the mode binds: nobody under root)', async () => {
    const { home, dir } = fresh();
    const locked = join(dir, 'locked');
    const cwd = join(locked, 'inner');
    mkdirSync(cwd, { recursive: true });
    // Every user may reach the case's folder; only the locked part is closed.
    for (let p = dir; p.startsWith(root); p = join(p, '..')) chmodSync(p, 0o755);
    chmodSync(locked, 0o000);
    try {
      const files = (await runUnprivileged(`
        import { readConsentFiles } from './consent/consent-files.js';
        console.log(JSON.stringify(readConsentFiles(${JSON.stringify(home)}, ${JSON.stringify(P)}, ${JSON.stringify(cwd)})));
      `)) as ConsentFiles;
      expect(files.directoryFile).toBe('unreadable');
      expect(files.unreadable.join()).toContain(DIRECTORY_FILE);
      expect(decideConsent(readEnv({}, false), files, { project: P, consent: 'opt-out' }).rule).toBe('unreadable-file');
    } finally {
      chmodSync(locked, 0o700);
    }
  });
});

describe('writeGlobalSwitch and writeProjectConsent', () => {
  it('round-trip the global switch', () => {
    const { home, cwd } = fresh();
    writeGlobalSwitch(home, false);
    expect(readConsentFiles(home, P, cwd).globalDisabled).toBe(true);
    expect(decide(home, cwd).rule).toBe('global-switch');
    writeGlobalSwitch(home, true);
    expect(readConsentFiles(home, P, cwd).globalDisabled).toBe(false);
    expect(decide(home, cwd).rule).toBe('default-on');
  });

  it("round-trip a project's consent, without touching other projects", () => {
    const { home, cwd } = fresh();
    writeProjectConsent(home, P, false);
    expect(readConsentFiles(home, P, cwd).project).toBe('out');
    expect(readConsentFiles(home, 'other-lib', cwd).project).toBeUndefined();
    expect(decide(home, cwd).rule).toBe('project-optout');
    writeProjectConsent(home, P, true);
    expect(readConsentFiles(home, P, cwd).project).toBe('in');
    expect(decide(home, cwd).rule).toBe('opted-in');
  });

  it('keep a scoped project name inside the consent folder', () => {
    const { home, cwd } = fresh();
    writeProjectConsent(home, '@acme/sdk', false);
    expect(readConsentFiles(home, '@acme/sdk', cwd).project).toBe('out');
    expect(readConsentFiles(home, '@acme', cwd).project).toBeUndefined();
    expect(homePaths.consent(home, '@acme/sdk').startsWith(join(home.config, 'consent'))).toBe(true);
    expect(existsSync(homePaths.consent(home, '@acme/sdk'))).toBe(true);
    expect(existsSync(join(home.config, 'consent', '@acme'))).toBe(false);
  });

  it('write files 0600 in folders 0700', () => {
    const { home } = fresh();
    writeGlobalSwitch(home, false);
    writeProjectConsent(home, P, false);
    const mode = (path: string) => statSync(path).mode & 0o777;
    expect(mode(homePaths.settings(home))).toBe(0o600);
    expect(mode(homePaths.consent(home, P))).toBe(0o600);
    expect(mode(home.config)).toBe(0o700);
    expect(mode(join(home.config, 'consent'))).toBe(0o700);
  });

  it('write a format version, and leave no temporary files behind', () => {
    const { home } = fresh();
    writeProjectConsent(home, P, true);
    const saved = JSON.parse(readFileSync(homePaths.consent(home, P), 'utf8')) as Record<string, unknown>;
    expect(saved).toMatchObject({ format: FILE_FORMAT, project: P, consent: 'in' });
    expect(readdirSync(join(home.config, 'consent'))).toEqual([`${P}.json`]);
  });
});
