// The detached sender: started at a host's exit, it delivers the reports waiting in the spool and
// exits within its watchdog, whatever the network does. It loads tallyho's own code only.
import { rmSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readEnv } from './config/env.js';
import { removeOrphans } from './config/files.js';
import { homePaths, homeProblem } from './config/home.js';
import { createLog } from './config/log.js';
import { readTrustedFile } from './config/trusted-files.js';
import { deliverSpooled } from './delivery/deliver-spooled.js';
import { recordGone } from './consent/gone.js';
import { currentConsent } from './consent/current-consent.js';
import { declaredSpec } from './consent/known-projects.js';
import { SENDER_WATCHDOG_MS, senderLockPath, takeSenderLock } from './delivery/sender-launch.js';
import { Spool, type SpoolEntry } from './delivery/spool.js';
import type { Transport } from './transports/transport.js';
import { retryingTransport } from './transports/retrying.js';
import { transportFromSpec } from './transports/transport-spec.js';

async function main(config: string, cache: string, watchdogMs: number): Promise<void> {
  const home = { config, cache };
  const env = readEnv();
  const log = createLog('sender', { debug: env.debug, showMe: false });
  const started = Date.now();
  // A home that someone else can write into holds nothing this process may act on.
  if (homeProblem(home) !== undefined) return;
  if (!takeSenderLock(home, started)) return;
  // Sending stops a margin before the watchdog, so that files are put back in order before it fires.
  const budgetEnd = started + watchdogMs - Math.min(3000, watchdogMs * 0.2);
  const deadline = AbortSignal.timeout(Math.max(0, budgetEnd - started));
  const cwd = process.cwd();
  const holds = (entry: SpoolEntry): boolean => currentConsent(env, home, cwd, entry).enabled;
  // What a transport is comes from the project's entry that its host wrote (its code's declared
  // transports), never from the spool file: a planted or altered file can name a transport, not make one.
  const declared = (entry: SpoolEntry) => declaredSpec(home, entry.project, entry.transport.name);
  try {
    const root = homePaths.spoolRoot(home);
    for (const name of safeReaddir(root)) {
      if (name === 'sender.lock' || deadline.aborted) continue;
      const spool = new Spool(join(root, name));
      spool.recordDrops(spool.tidy(Date.now()));
      // Reports for transports only the host can rebuild (or that its code no longer declares) wait
      // for its next run, untouched.
      const claims = spool.claimDue(Date.now(), { only: (entry) => declared(entry) !== undefined });
      if (claims.length === 0) continue;
      await deliverSpooled(
        {
          spool,
          log,
          now: Date.now,
          signal: deadline,
          transportFor: (entry) => {
            const spec = declared(entry);
            if (spec === undefined) return undefined;
            const rebuilt = transportFromSpec(spec, env);
            if ('error' in rebuilt) {
              log.warn(`waiting report ${entry.report.id}: ${rebuilt.error}`);
              return undefined;
            }
            const inner = rebuilt.transport;
            // Consent is checked before every attempt, not once per report: an opt-out during the
            // retries stops them.
            const gated: Transport = {
              name: inner.name,
              send: (report, sendOptions) =>
                holds(entry) ? inner.send(report, sendOptions) : Promise.resolve({ kind: 'failure', reason: 'consent withdrawn' }),
            };
            return retryingTransport(gated, { deadlineMs: Math.max(0, budgetEnd - Date.now()) });
          },
          consentHolds: holds,
          onGone: (entry) => recordGone(home, entry.project, entry.version),
        },
        claims,
      );
    }
  } finally {
    releaseLock(senderLockPath(home));
  }
}

function safeReaddir(dir: string): string[] {
  try {
    // Orphaned temporary files (a process killed while writing) go whenever a folder is listed.
    return removeOrphans(dir, readdirSync(dir), Date.now());
  } catch {
    return [];
  }
}

function releaseLock(path: string): void {
  try {
    const read = readTrustedFile(path);
    if (read.kind === 'ok' && (JSON.parse(read.text) as { pid?: number }).pid === process.pid) rmSync(path, { force: true });
  } catch {
    // Gone already.
  }
}

// Arguments: the home's config and cache folders, and optionally `--watchdog-ms=N` (default 30 s).
const [config, cache, ...flags] = process.argv.slice(2);
const watchdogFlag = flags.find((f) => f.startsWith('--watchdog-ms='));
const watchdogMs = watchdogFlag === undefined ? SENDER_WATCHDOG_MS : Math.min(SENDER_WATCHDOG_MS, Number(watchdogFlag.slice(14)) || SENDER_WATCHDOG_MS);
// The hard watchdog: whatever the network does, this process is gone by then. It is also what keeps
// the process alive while it waits for answers, since tallyho's sockets never do; main() exits as
// soon as the work is done.
setTimeout(() => process.exit(0), watchdogMs);
if (config !== undefined && cache !== undefined) {
  main(config, cache, watchdogMs).then(
    () => process.exit(0),
    () => process.exit(0),
  );
}
