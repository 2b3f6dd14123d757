import type { ConsentDecision } from '../../consent/decide.js';

/**
 * The `localStorage` keys a user (or the page's own settings screen) sets to control tallyho in a
 * browser, the counterparts of the environment variables: `tallyho-disable` = `1` is
 * `TALLYHO_DISABLE`; `tallyho-optout` / `tallyho-optin` = `acme-sdk,other` are `TALLYHO_OPTOUT` /
 * `TALLYHO_OPTIN`; `tallyho-show-me`, `tallyho-debug` and `tallyho-dry-run` = `1` print every report,
 * print tallyho's decisions, and send nothing, on the console.
 */
export const STORAGE_KEYS = {
  disable: 'tallyho-disable',
  optOut: 'tallyho-optout',
  optIn: 'tallyho-optin',
  showMe: 'tallyho-show-me',
  debug: 'tallyho-debug',
  dryRun: 'tallyho-dry-run',
} as const;

/** What the `localStorage` switches say. */
export interface StorageSwitches {
  readonly disable: boolean;
  readonly optOut: readonly string[];
  readonly optIn: readonly string[];
  readonly showMe: boolean;
  readonly debug: boolean;
  readonly dryRun: boolean;
}

/** The browser's own privacy signals and the `localStorage` switches, as read now. */
export interface WebSignals {
  /** Global Privacy Control: `navigator.globalPrivacyControl`. */
  readonly globalPrivacyControl: boolean;
  /** `navigator.doNotTrack` (or the older `window.doNotTrack`) is `1`. */
  readonly doNotTrack: boolean;
  /** `navigator.webdriver`: a browser driven by test automation, the browser's "test runner". */
  readonly automated: boolean;
  /** The switches; `undefined` where there is no `localStorage` (workers), `unreadable` where it throws. */
  readonly storage: StorageSwitches | 'unreadable' | undefined;
}

interface Storage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

interface WebGlobals {
  readonly navigator?: { readonly globalPrivacyControl?: unknown; readonly doNotTrack?: unknown; readonly webdriver?: unknown };
  readonly doNotTrack?: unknown;
  readonly localStorage?: Storage;
}

const TRUTHY = new Set(['1', 'true', 'yes', 'y', 'on']);
const FALSY = new Set(['0', 'false', 'no', 'n', 'off']);

const list = (value: string | null): string[] =>
  value === null ? [] : value.split(',').map((p) => p.trim()).filter((p) => p !== '');

/** The storage itself: reading the `localStorage` property throws where storage is blocked (sandboxed frames, some privacy settings). */
function storageOf(globals: WebGlobals): Storage | undefined {
  return 'localStorage' in globals ? (globals.localStorage ?? undefined) : undefined;
}

/** Reads the signals. Never throws: blocked storage is `unreadable`, which means off. */
export function readWebSignals(globals: WebGlobals = globalThis as WebGlobals): WebSignals {
  const navigator = globals.navigator;
  let storage: WebSignals['storage'];
  try {
    const store = storageOf(globals);
    if (store !== undefined) {
      const flag = (key: string, optOut = false) => {
        const value = store.getItem(key)?.trim().toLowerCase();
        if (value === undefined || value === '') return false;
        // For an opt-out, anything set that is not plainly "no" means off, as with the variables.
        return optOut ? !FALSY.has(value) : TRUTHY.has(value);
      };
      storage = {
        disable: flag(STORAGE_KEYS.disable, true),
        optOut: list(store.getItem(STORAGE_KEYS.optOut)),
        optIn: list(store.getItem(STORAGE_KEYS.optIn)),
        showMe: flag(STORAGE_KEYS.showMe),
        debug: flag(STORAGE_KEYS.debug),
        dryRun: flag(STORAGE_KEYS.dryRun),
      };
    }
  } catch {
    storage = 'unreadable';
  }
  return {
    globalPrivacyControl: navigator?.globalPrivacyControl === true,
    doNotTrack: navigator?.doNotTrack === '1' || navigator?.doNotTrack === 'yes' || globals.doNotTrack === '1',
    automated: navigator?.webdriver === true,
    storage,
  };
}

/**
 * Decides whether a project's telemetry is on in a browser or worker: the same order as on a server,
 * with the browser's signals as the environment's opt-outs. Every opt-out wins; storage that cannot
 * be read means off; an automated browser is a test run, off unless opted in.
 */
export function decideWebConsent(signals: WebSignals, options: { readonly project: string; readonly consent: 'opt-out' | 'opt-in' }): ConsentDecision {
  const { project } = options;
  const off = (rule: ConsentDecision['rule'], reason: string): ConsentDecision => ({ enabled: false, rule, reason });
  if (signals.globalPrivacyControl) return off('global-privacy-control', 'the browser sends Global Privacy Control');
  if (signals.doNotTrack) return off('do-not-track', 'the browser sends Do Not Track');
  const { storage } = signals;
  if (storage === 'unreadable') return off('unreadable-file', 'localStorage could not be read, so off to be safe');
  if (storage?.disable) return off('tallyho-disable', `localStorage ${STORAGE_KEYS.disable} is set`);
  if (storage?.optOut.includes(project)) return off('tallyho-optout', `localStorage ${STORAGE_KEYS.optOut} names ${project}`);
  const optedIn = storage?.optIn.includes(project) ?? false;
  if (signals.automated && !optedIn) {
    return off('test-runner', `an automated browser (navigator.webdriver); opt in with localStorage ${STORAGE_KEYS.optIn}=${project}`);
  }
  if (optedIn) return { enabled: true, rule: 'opted-in', reason: `localStorage ${STORAGE_KEYS.optIn} names ${project}` };
  if (options.consent === 'opt-in') {
    return off('opt-in-required', `${project} asks before collecting: opt in with localStorage ${STORAGE_KEYS.optIn}=${project}`);
  }
  return { enabled: true, rule: 'default-on', reason: `on by default; turn off with Global Privacy Control, Do Not Track or localStorage ${STORAGE_KEYS.optOut}` };
}

/** Persists a user's choice for `project` in the `localStorage` lists. Returns whether it was saved. */
export function writeWebConsent(project: string, allow: boolean, globals: WebGlobals = globalThis as WebGlobals): boolean {
  try {
    const store = storageOf(globals);
    if (store === undefined) return false;
    const [add, remove] = allow ? [STORAGE_KEYS.optIn, STORAGE_KEYS.optOut] : [STORAGE_KEYS.optOut, STORAGE_KEYS.optIn];
    const kept = list(store.getItem(remove)).filter((p) => p !== project);
    store.setItem(remove, kept.join(','));
    const added = list(store.getItem(add)).filter((p) => p !== project);
    store.setItem(add, [...added, project].join(','));
    return true;
  } catch {
    return false;
  }
}
