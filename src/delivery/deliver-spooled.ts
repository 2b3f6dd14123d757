import type { Log } from '../config/log.js';
import { validReport } from '../report/valid-report.js';
import type { SendOutcome, Transport } from '../transports/transport.js';
import { type Claim, lossOf, type Spool, type SpoolEntry } from './spool.js';
import { errorText } from '../config/error-text.js';

/** What delivering a spool's due reports needs from its caller (the detached sender, or the host). */
export interface SpooledDeliveryOptions {
  readonly spool: Spool;
  readonly log: Log;
  readonly now: () => number;
  /** Aborted when the caller stops waiting (the sender's watchdog, the host's flush deadline). */
  readonly signal: AbortSignal;
  /** The transport for an entry, or `undefined` to leave the entry for a process that has it. */
  transportFor(entry: SpoolEntry): Transport | undefined;
  /** Consent is checked again before every send: `false` deletes the entry unsent. */
  consentHolds(entry: SpoolEntry): boolean;
  /** Called on `410 Gone`. */
  onGone(entry: SpoolEntry): void;
}

/** What became of the claimed entries. */
export interface SpooledDeliveryResult {
  delivered: number;
  kept: number;
  refused: number;
  withdrawn: number;
}

/** The wait before an undelivered entry is tried again: 1 minute, doubling, at most 6 hours. */
export function retryDelayMs(attempts: number, retryAfterMs = 0): number {
  return Math.max(retryAfterMs, Math.min(6 * 3600_000, 60_000 * 2 ** Math.min(attempts, 16)));
}

/**
 * Sends claimed spool entries one by one. A delivered entry or a final refusal removes the file (a
 * refusal is recorded as dropped); a retryable answer puts it back with its next attempt time; an
 * entry whose consent no longer holds is deleted unsent. Never throws.
 */
export async function deliverSpooled(options: SpooledDeliveryOptions, claims: readonly Claim[]): Promise<SpooledDeliveryResult> {
  const result: SpooledDeliveryResult = { delivered: 0, kept: 0, refused: 0, withdrawn: 0 };
  const { spool, log } = options;
  for (const claim of claims) {
    const { entry } = claim;
    if (!options.consentHolds(entry)) {
      spool.remove(claim);
      result.withdrawn++;
      log.debug(`waiting report ${entry.report.id} deleted unsent: consent no longer holds`);
      continue;
    }
    // The contract is checked where a report leaves the machine: reports spooled at exit were not.
    if (validReport(entry.report) === undefined) {
      spool.remove(claim);
      spool.recordDrops(lossOf(entry.report, 'invalid'));
      result.refused++;
      log.warn(`waiting report ${entry.report.id} is not a valid report; its counts are reported as dropped (invalid)`);
      continue;
    }
    const transport = options.transportFor(entry);
    if (transport === undefined || options.signal.aborted) {
      spool.release(claim, { attempts: entry.attempts, nextAttemptAt: entry.nextAttemptAt });
      result.kept++;
      continue;
    }
    let outcome: SendOutcome;
    try {
      outcome = await transport.send(entry.report, { signal: options.signal });
    } catch (error) {
      outcome = { kind: 'failure', reason: `transport threw: ${errorText(error)}` };
    }
    if (outcome.kind !== 'success' && !options.consentHolds(entry)) {
      // Withdrawn while it was being tried (a `tallyho optout` during the retries): gone, unsent.
      spool.remove(claim);
      result.withdrawn++;
      continue;
    }
    if (outcome.kind === 'success') {
      spool.remove(claim);
      result.delivered++;
      log.debug(`waiting report ${entry.report.id} delivered to ${entry.transport.name}`);
    } else if (outcome.kind === 'retryable') {
      const attempts = entry.attempts + 1;
      spool.release(claim, { attempts, nextAttemptAt: options.now() + retryDelayMs(attempts, outcome.retryAfterMs) });
      result.kept++;
      log.debug(`waiting report ${entry.report.id} kept for later (${outcome.reason})`);
    } else {
      spool.remove(claim);
      spool.recordDrops(lossOf(entry.report, 'refused'));
      if (outcome.gone) options.onGone(entry);
      result.refused++;
      log.warn(`waiting report ${entry.report.id} refused by ${entry.transport.name}: ${outcome.reason}; its counts are reported as dropped`);
    }
  }
  return result;
}
