import type { EnvFacts } from '../config/env.js';
import type { Home } from '../config/home.js';
import { readConsentFiles } from './consent-files.js';
import { type ConsentDecision, type ConsentOptions, decideConsent } from './decide.js';
import { goneVersion } from './gone.js';

/**
 * The decision as it stands now, for one project and version: the user's rules (environment, files,
 * directory) and then a `410 Gone` recorded for this version. The host, the detached sender and
 * `tallyho status` all decide through this, and the first two again before every send.
 */
export function currentConsent(
  env: EnvFacts,
  home: Home,
  cwd: string,
  subject: ConsentOptions & { readonly version: string | undefined },
): ConsentDecision {
  const decision = decideConsent(env, readConsentFiles(home, subject.project, cwd), subject);
  if (decision.enabled && subject.version !== undefined && goneVersion(home, subject.project) === subject.version) {
    return {
      enabled: false,
      rule: 'endpoint-gone',
      reason: `the endpoint answered 410 Gone for ${subject.project} ${subject.version}: collection has stopped until a new version`,
    };
  }
  return decision;
}
