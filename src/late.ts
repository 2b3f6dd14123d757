/**
 * What only reporting needs: building, validating, showing, spooling and sending reports, the salted
 * identifiers, and the detached sender's launch. The host's start-up never loads it: the package ships
 * it as a file of its own (`late.cjs`) that `loadLate()` requires on first use, synchronously, so the
 * exit hook can use it too.
 */
export { createReporter } from './delivery/reporter.js';
export { launchSender } from './delivery/sender-launch.js';
export { Spool } from './delivery/spool.js';
export { cachedIdentity, lazyIdentity, loadSalt } from './identity/identity.js';
export { callerDirectory, dependencyVersions } from './report/dependencies.js';
export { environmentFacts } from './report/environment.js';
export { retryingTransport } from './transports/retrying.js';
export { transportFromSpec } from './transports/transport-spec.js';
