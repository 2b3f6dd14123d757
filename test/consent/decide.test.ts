import { describe, expect, it } from 'vitest';
import { readEnv } from '../../src/config/env.js';
import { type ConsentFiles, type ConsentRule, decideConsent } from '../../src/consent/decide.js';

const P = 'acme-sdk';
const DIR_FILE = '/work/team/.tallyho-do-not-track';
const BAD_SETTINGS = '/home/u/.config/tallyho/settings.json (invalid JSON)';

const NO_FILES: ConsentFiles = { globalDisabled: false, project: undefined, directoryFile: undefined, unreadable: [] };

interface Row {
  readonly name: string;
  readonly env?: Record<string, string>;
  /** ci-info's verdict for the environment. */
  readonly isCI?: boolean;
  readonly files?: Partial<ConsentFiles>;
  readonly consent?: 'opt-out' | 'opt-in';
  readonly optOutEnv?: string;
  readonly enabled: boolean;
  readonly rule: ConsentRule;
  /** What the reason must name, so that the user knows what to change. */
  readonly mentions: readonly string[];
}

const ROWS: Row[] = [
  // On by default, with how to turn it off.
  { name: 'nothing set', enabled: true, rule: 'default-on', mentions: ['DO_NOT_TRACK', 'TALLYHO_OPTOUT', 'tallyho optout'] },
  { name: 'DO_NOT_TRACK=0 is a plain no', env: { DO_NOT_TRACK: '0', TALLYHO_DISABLE: 'false' }, enabled: true, rule: 'default-on', mentions: [] },

  // DO_NOT_TRACK: beats every opt-in.
  { name: 'DO_NOT_TRACK=1', env: { DO_NOT_TRACK: '1' }, enabled: false, rule: 'do-not-track', mentions: ['DO_NOT_TRACK'] },
  { name: 'DO_NOT_TRACK=anything', env: { DO_NOT_TRACK: 'anything' }, enabled: false, rule: 'do-not-track', mentions: ['DO_NOT_TRACK'] },
  { name: 'DO_NOT_TRACK beats TALLYHO_OPTIN', env: { DO_NOT_TRACK: '1', TALLYHO_OPTIN: P }, enabled: false, rule: 'do-not-track', mentions: ['DO_NOT_TRACK'] },
  { name: 'DO_NOT_TRACK beats a persisted opt-in', env: { DO_NOT_TRACK: '1' }, files: { project: 'in' }, enabled: false, rule: 'do-not-track', mentions: ['DO_NOT_TRACK'] },
  { name: 'DO_NOT_TRACK before TALLYHO_DISABLE', env: { DO_NOT_TRACK: '1', TALLYHO_DISABLE: '1' }, enabled: false, rule: 'do-not-track', mentions: ['DO_NOT_TRACK'] },

  // TALLYHO_DISABLE.
  { name: 'TALLYHO_DISABLE=1', env: { TALLYHO_DISABLE: '1' }, enabled: false, rule: 'tallyho-disable', mentions: ['TALLYHO_DISABLE'] },
  { name: 'TALLYHO_DISABLE beats TALLYHO_OPTIN', env: { TALLYHO_DISABLE: 'yes', TALLYHO_OPTIN: P }, enabled: false, rule: 'tallyho-disable', mentions: ['TALLYHO_DISABLE'] },

  // The author's own variable.
  { name: "the author's variable set", env: { ACME_TELEMETRY_DISABLED: '1' }, optOutEnv: 'ACME_TELEMETRY_DISABLED', enabled: false, rule: 'author-opt-out-env', mentions: ['ACME_TELEMETRY_DISABLED'] },
  { name: "the author's variable beats TALLYHO_OPTIN", env: { ACME_TELEMETRY_DISABLED: 'true', TALLYHO_OPTIN: P }, optOutEnv: 'ACME_TELEMETRY_DISABLED', enabled: false, rule: 'author-opt-out-env', mentions: ['ACME_TELEMETRY_DISABLED'] },
  { name: "the author's variable saying no", env: { ACME_TELEMETRY_DISABLED: 'false' }, optOutEnv: 'ACME_TELEMETRY_DISABLED', enabled: true, rule: 'default-on', mentions: [] },
  { name: "another project's variable", env: { OTHER_TELEMETRY_DISABLED: '1' }, optOutEnv: 'ACME_TELEMETRY_DISABLED', enabled: true, rule: 'default-on', mentions: [] },

  // TALLYHO_OPTOUT.
  { name: 'TALLYHO_OPTOUT names the project', env: { TALLYHO_OPTOUT: `other,${P}` }, enabled: false, rule: 'tallyho-optout', mentions: ['TALLYHO_OPTOUT', P] },
  { name: 'TALLYHO_OPTOUT beats TALLYHO_OPTIN', env: { TALLYHO_OPTOUT: P, TALLYHO_OPTIN: P }, enabled: false, rule: 'tallyho-optout', mentions: ['TALLYHO_OPTOUT'] },
  { name: 'TALLYHO_OPTOUT names another project only', env: { TALLYHO_OPTOUT: 'other' }, enabled: true, rule: 'default-on', mentions: [] },
  { name: 'TALLYHO_OPTOUT before any file', env: { TALLYHO_OPTOUT: P }, files: { globalDisabled: true }, enabled: false, rule: 'tallyho-optout', mentions: ['TALLYHO_OPTOUT'] },

  // A home someone else could write into: off, whatever its files say, but after the environment's opt-outs.
  { name: 'unsafe home', files: { unsafeHome: '/tmp/th is owned by uid 1001' }, enabled: false, rule: 'unsafe-home', mentions: ['/tmp/th is owned by uid 1001'] },
  { name: 'unsafe home beats TALLYHO_OPTIN', env: { TALLYHO_OPTIN: P }, files: { unsafeHome: '/tmp/th is writable by others', project: 'in' }, enabled: false, rule: 'unsafe-home', mentions: ['/tmp/th'] },
  { name: 'DO_NOT_TRACK before an unsafe home', env: { DO_NOT_TRACK: '1' }, files: { unsafeHome: '/tmp/th' }, enabled: false, rule: 'do-not-track', mentions: ['DO_NOT_TRACK'] },

  // TALLYHO_OPTOUT names are compared lowercase, separated by commas or whitespace.
  { name: 'TALLYHO_OPTOUT in capitals', env: { TALLYHO_OPTOUT: 'ACME-SDK' }, enabled: false, rule: 'tallyho-optout', mentions: [P] },
  { name: 'TALLYHO_OPTOUT separated by spaces', env: { TALLYHO_OPTOUT: `other  ${P}` }, enabled: false, rule: 'tallyho-optout', mentions: [P] },
  { name: 'TALLYHO_OPTIN in capitals', env: { TALLYHO_OPTIN: 'Acme-SDK' }, isCI: true, enabled: true, rule: 'opted-in', mentions: [P] },

  // A file that cannot be read means off, even when opted in.
  { name: 'unreadable settings file', files: { globalDisabled: 'unreadable', unreadable: [BAD_SETTINGS] }, enabled: false, rule: 'unreadable-file', mentions: [BAD_SETTINGS] },
  { name: 'unreadable consent file', files: { project: 'unreadable', unreadable: ['/h/consent/acme-sdk.json'] }, enabled: false, rule: 'unreadable-file', mentions: ['/h/consent/acme-sdk.json'] },
  { name: 'unreadable directory file', files: { directoryFile: 'unreadable', unreadable: ['.tallyho-do-not-track in /w'] }, enabled: false, rule: 'unreadable-file', mentions: ['.tallyho-do-not-track'] },
  { name: 'unreadable file beats TALLYHO_OPTIN', env: { TALLYHO_OPTIN: P }, files: { globalDisabled: 'unreadable', unreadable: [BAD_SETTINGS] }, enabled: false, rule: 'unreadable-file', mentions: [BAD_SETTINGS] },

  // `tallyho disable`.
  { name: 'global switch off', files: { globalDisabled: true }, enabled: false, rule: 'global-switch', mentions: ['tallyho disable'] },
  { name: 'global switch beats TALLYHO_OPTIN', env: { TALLYHO_OPTIN: P }, files: { globalDisabled: true }, enabled: false, rule: 'global-switch', mentions: ['tallyho disable'] },
  { name: 'global switch beats a persisted opt-in', files: { globalDisabled: true, project: 'in' }, enabled: false, rule: 'global-switch', mentions: ['tallyho disable'] },
  { name: 'global switch before the project switch', files: { globalDisabled: true, project: 'out' }, enabled: false, rule: 'global-switch', mentions: ['tallyho disable'] },

  // `tallyho optout <project>` / setConsent(false).
  { name: 'project opted out', files: { project: 'out' }, enabled: false, rule: 'project-optout', mentions: [`tallyho optout ${P}`] },
  { name: 'project opt-out beats TALLYHO_OPTIN', env: { TALLYHO_OPTIN: P }, files: { project: 'out' }, enabled: false, rule: 'project-optout', mentions: [P] },
  { name: 'project opt-out before the directory file', files: { project: 'out', directoryFile: DIR_FILE }, enabled: false, rule: 'project-optout', mentions: [P] },

  // `.tallyho-do-not-track`.
  { name: 'directory file', files: { directoryFile: DIR_FILE }, enabled: false, rule: 'directory-file', mentions: [DIR_FILE] },
  { name: 'directory file beats TALLYHO_OPTIN', env: { TALLYHO_OPTIN: P }, files: { directoryFile: DIR_FILE }, enabled: false, rule: 'directory-file', mentions: [DIR_FILE] },
  { name: 'directory file beats a persisted opt-in', files: { directoryFile: DIR_FILE, project: 'in' }, enabled: false, rule: 'directory-file', mentions: [DIR_FILE] },
  { name: 'directory file before CI', isCI: true, files: { directoryFile: DIR_FILE }, enabled: false, rule: 'directory-file', mentions: [DIR_FILE] },

  // CI: off unless opted in.
  { name: 'CI (ci-info)', isCI: true, enabled: false, rule: 'ci', mentions: [`TALLYHO_OPTIN=${P}`] },
  { name: 'CI=true', env: { CI: 'true' }, enabled: false, rule: 'ci', mentions: ['CI', `TALLYHO_OPTIN=${P}`] },
  { name: 'CI before a test runner', isCI: true, env: { VITEST: 'true' }, enabled: false, rule: 'ci', mentions: ['CI'] },
  { name: 'CI, opted in for another project', isCI: true, env: { TALLYHO_OPTIN: 'other' }, enabled: false, rule: 'ci', mentions: [] },
  { name: 'CI, TALLYHO_OPTIN', isCI: true, env: { TALLYHO_OPTIN: P }, enabled: true, rule: 'opted-in', mentions: ['TALLYHO_OPTIN', P] },
  { name: 'CI, persisted opt-in', isCI: true, files: { project: 'in' }, enabled: true, rule: 'opted-in', mentions: [`tallyho optin ${P}`] },

  // Test runners: off unless opted in.
  { name: 'VITEST', env: { VITEST: 'true' }, enabled: false, rule: 'test-runner', mentions: ['VITEST', `TALLYHO_OPTIN=${P}`] },
  { name: 'JEST_WORKER_ID', env: { JEST_WORKER_ID: '1' }, enabled: false, rule: 'test-runner', mentions: ['JEST_WORKER_ID'] },
  { name: 'NODE_TEST_CONTEXT', env: { NODE_TEST_CONTEXT: 'child-v8' }, enabled: false, rule: 'test-runner', mentions: ['NODE_TEST_CONTEXT'] },
  { name: 'NODE_ENV=test', env: { NODE_ENV: 'test' }, enabled: false, rule: 'test-runner', mentions: ['NODE_ENV=test'] },
  { name: 'test runner, TALLYHO_OPTIN', env: { VITEST: 'true', TALLYHO_OPTIN: P }, enabled: true, rule: 'opted-in', mentions: ['TALLYHO_OPTIN'] },
  { name: 'test runner, persisted opt-in', env: { JEST_WORKER_ID: '1' }, files: { project: 'in' }, enabled: true, rule: 'opted-in', mentions: [`tallyho optin ${P}`] },
  { name: 'CI and test runner, TALLYHO_OPTIN', isCI: true, env: { VITEST: 'true', TALLYHO_OPTIN: P }, enabled: true, rule: 'opted-in', mentions: ['TALLYHO_OPTIN'] },

  // consent: 'opt-in': nothing until the user opts in.
  { name: "author's opt-in, no opt-in", consent: 'opt-in', enabled: false, rule: 'opt-in-required', mentions: [`TALLYHO_OPTIN=${P}`, `tallyho optin ${P}`] },
  { name: "author's opt-in, opted in for another project", consent: 'opt-in', env: { TALLYHO_OPTIN: 'other' }, enabled: false, rule: 'opt-in-required', mentions: [P] },
  { name: "author's opt-in, TALLYHO_OPTIN", consent: 'opt-in', env: { TALLYHO_OPTIN: `other, ${P}` }, enabled: true, rule: 'opted-in', mentions: ['TALLYHO_OPTIN'] },
  { name: "author's opt-in, persisted opt-in", consent: 'opt-in', files: { project: 'in' }, enabled: true, rule: 'opted-in', mentions: [`tallyho optin ${P}`] },
  { name: "author's opt-in in CI", consent: 'opt-in', isCI: true, enabled: false, rule: 'ci', mentions: [] },
  { name: "author's opt-in, DO_NOT_TRACK beats TALLYHO_OPTIN", consent: 'opt-in', env: { DO_NOT_TRACK: '1', TALLYHO_OPTIN: P }, enabled: false, rule: 'do-not-track', mentions: ['DO_NOT_TRACK'] },
  { name: 'persisted opt-in, no CI', files: { project: 'in' }, enabled: true, rule: 'opted-in', mentions: [] },
];

describe('decideConsent', () => {
  it.each(ROWS.map((row) => [row.name, row] as const))('%s', (_name, row) => {
    const env = readEnv(row.env ?? {}, row.isCI ?? false);
    const files: ConsentFiles = { ...NO_FILES, ...row.files };
    const decision = decideConsent(env, files, { project: P, consent: row.consent ?? 'opt-out', optOutEnv: row.optOutEnv });
    expect({ enabled: decision.enabled, rule: decision.rule }).toEqual({ enabled: row.enabled, rule: row.rule });
    for (const text of row.mentions) expect(decision.reason).toContain(text);
  });

  it('covers every rule it can decide', () => {
    // endpoint-gone and test-kit are decided outside decideConsent (410 Gone, tallyho/testing).
    const rules: ConsentRule[] = [
      'do-not-track', 'tallyho-disable', 'author-opt-out-env', 'tallyho-optout', 'unsafe-home', 'unreadable-file', 'global-switch',
      'project-optout', 'directory-file', 'ci', 'test-runner', 'opt-in-required', 'opted-in', 'default-on',
    ];
    expect(new Set(ROWS.map((row) => row.rule))).toEqual(new Set(rules));
  });

  it('is off whenever any single opt-out is present, whatever else says on', () => {
    const optOuts: { env?: Record<string, string>; files?: Partial<ConsentFiles> }[] = [
      { env: { DO_NOT_TRACK: '1' } },
      { env: { TALLYHO_DISABLE: '1' } },
      { env: { TALLYHO_OPTOUT: P } },
      { env: { ACME_OFF: 'on' } },
      { files: { globalDisabled: true } },
      { files: { project: 'out' } },
      { files: { directoryFile: DIR_FILE } },
      { files: { globalDisabled: 'unreadable', unreadable: [BAD_SETTINGS] } },
    ];
    for (const optOut of optOuts) {
      for (const consent of ['opt-out', 'opt-in'] as const) {
        for (const isCI of [false, true]) {
          const env = readEnv({ TALLYHO_OPTIN: P, ...optOut.env }, isCI);
          const files: ConsentFiles = { ...NO_FILES, project: 'in', ...optOut.files };
          const decision = decideConsent(env, files, { project: P, consent, optOutEnv: 'ACME_OFF' });
          expect(decision.enabled, JSON.stringify({ optOut, consent, isCI })).toBe(false);
        }
      }
    }
  });
});
