// The detached sender: started at a host's exit when a batch is due, it delivers the reports waiting
// in the spool, takes in what arrives while it runs, and exits within its watchdog, whatever the
// network does. It loads tallyho's own code only.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readEnv } from './config/env.js';
import { removeOrphans } from './config/files.js';
import { homePaths, homeProblem } from './config/home.js';
import { createLog } from './config/log.js';
import { recordGone } from './consent/gone.js';
import { currentConsent } from './consent/current-consent.js';
import { declaredSpec } from './consent/known-projects.js';
import { deliverBatch } from './delivery/deliver.js';
import { releaseSenderLock, SENDER_WATCHDOG_MS, takeSenderLock } from './delivery/sender-launch.js';
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
  // Sending stops a margin before the watchdog, so that files are put back in order before it fires.
  const budgetEnd = started + watchdogMs - Math.min(3000, watchdogMs * 0.2);
  const deadline = AbortSignal.timeout(Math.max(0, budgetEnd - started));
  const cwd = process.cwd();
  const holds = (entry: SpoolEntry): boolean => currentConsent(env, home, cwd, entry).enabled;
  // What a transport is comes from the project's entry that its host wrote (its code's declared
  // transports), never from the spool file: a planted or altered file can name a transport, not make one.
  const declared = (entry: SpoolEntry) => declaredSpec(home, entry.project, entry.transport.name);
  const root = homePaths.spoolRoot(home);
  const spools = () => safeReaddir(root).filter((name) => name !== 'sender.lock' && !name.startsWith('sender.lock.')).map((name) => new Spool(join(root, name)));

  /** One pass over every project's spool: sends what is due. Returns how many reports it settled (sent or not). */
  async function pass(): Promise<number> {
    let progress = 0;
    for (const spool of spools()) {
      if (deadline.aborted) break;
      // Reports for transports only the host can rebuild (or that its code no longer declares) wait
      // for its next run, untouched.
      // No report of its own to carry losses: each is written to the spool as soon as it is known, for
      // the project's next report to collect (this process may be stopped at any moment).
      spool.recordDrops(spool.tidy(Date.now()));
      const delivered = await deliverBatch(
        {
          spool,
          log,
          now: Date.now,
          signal: deadline,
          onSettled: ({ lost }) => spool.recordDrops(lost),
          onGone: (entry) => recordGone(home, entry.project, entry.version),
          transportFor: (entry) => transportFor(entry),
          consentHolds: holds,
        },
        { only: (entry) => declared(entry) !== undefined },
      );
      // Put back untried (a transport that cannot be rebuilt here): not progress, or this would loop.
      progress += delivered.filter((d) => d.settled !== 'unsent').length;
    }
    return progress;
  }

  function transportFor(entry: SpoolEntry): Transport | undefined {
    const spec = declared(entry);
    if (spec === undefined) return undefined;
    const rebuilt = transportFromSpec(spec, env);
    if ('error' in rebuilt) {
      log.warn(`waiting report ${entry.report.id}: ${rebuilt.error}`);
      return undefined;
    }
    const inner = rebuilt.transport;
    // Consent is checked before every attempt, not once per report: an opt-out during the retries stops them.
    const gated: Transport = {
      name: inner.name,
      send: (report, sendOptions) =>
        holds(entry) ? inner.send(report, sendOptions) : Promise.resolve({ kind: 'failure', reason: 'consent withdrawn' }),
    };
    return retryingTransport(gated, { deadlineMs: Math.max(0, budgetEnd - Date.now()) });
  }

  /** Whether a report a sender could send is due, anywhere in the home (the files' names alone). */
  const anythingDue = () => spools().some((spool) => spool.due(Date.now()));

  // A host that exits while this sender holds the lock starts no sender of its own: so before it
  // exits, this sender looks again, and once more after giving the lock up (a host that wrote its
  // report after that look finds the lock gone and starts a sender itself). Nothing due is left
  // waiting for a later run while a sender is alive.
  while (!deadline.aborted) {
    if (!takeSenderLock(home, Date.now())) return;
    try {
      while (!deadline.aborted && (await pass()) > 0);
    } finally {
      releaseSenderLock(home);
    }
    if (!anythingDue() || (await passWithoutLock()) === 0) return;
  }

  /** A look after the lock is given up: sends what is due; claims keep any other sender from sending it too. */
  async function passWithoutLock(): Promise<number> {
    return deadline.aborted ? 0 : pass();
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
