import type { Log } from '../config/log.js';
import type { Dropped } from '../registry/counter-table.js';
import { lossOf } from '../report/build-report.js';
import type { SendOutcome } from '../transports/transport.js';
import type { Claim, Spool, SpoolEntry } from './spool.js';

/**
 * What became of one claimed report, besides what a transport answers:
 * - `withdrawn`: consent no longer holds; deleted unsent (a user's opt-out is not a loss).
 * - `invalid`: it fails the wire contract; deleted, its counts reported as dropped (`invalid`).
 * - `unsent`: not tried (no transport for it here, or the caller stopped waiting first); put back as it was.
 * - `interrupted`: its process is exiting while it is being sent; put back sealed (it may have
 *   arrived), due now, for the sender or the next run to send again under the same id.
 */
export type SettleOutcome =
  | SendOutcome
  | { readonly kind: 'withdrawn' }
  | { readonly kind: 'invalid' }
  | { readonly kind: 'unsent' }
  | { readonly kind: 'interrupted' };

/** What settling needs from its caller: the host process or the detached sender. */
export interface SettleContext {
  /** The queue the claim came from; `undefined` when the host has none (the test kit). */
  readonly spool: Spool | undefined;
  readonly log: Log;
  readonly now: () => number;
  /** Called on `410 Gone`. */
  onGone(entry: SpoolEntry): void;
}

/** The state a claim was left in. */
export type Settled = 'delivered' | 'kept' | 'refused' | 'withdrawn' | 'invalid' | 'unsent';

/**
 * A claim's next state, and the counts lost in getting there, as a value for the caller to carry on:
 * the host puts them in its next report, the detached sender writes them to the spool for the
 * project's next report. Settling never writes a loss anywhere itself.
 */
export interface Settlement {
  readonly settled: Settled;
  /** Counts lost, by reason; empty when nothing was. */
  readonly lost: Dropped;
}

const NOTHING_LOST: Dropped = Object.freeze({});

/**
 * The wait before an undelivered report is tried again, after its `attempts`-th attempt: 1 minute
 * after the first, doubling, at most 6 hours; longer if the receiver's `Retry-After` asks.
 */
export function retryDelayMs(attempts: number, retryAfterMs = 0): number {
  return Math.max(retryAfterMs, Math.min(6 * 3600_000, 60_000 * 2 ** Math.min(Math.max(attempts - 1, 0), 16)));
}

/**
 * Turns a claim and an outcome into the claim's next state: the one place where delivery outcomes
 * are settled, for the host's flushes and the detached sender alike.
 * - success: the file goes; data points the receiver rejected (a partial success) are reported as
 *   dropped (`refused`), one count per point (the receiver says how many points, not which).
 * - retryable: the file goes back, sealed, with its next attempt time.
 * - failure: the file goes; its counts, and the losses it carried, are reported as dropped (`refused`).
 * Never throws for a settled claim twice: a settled claim is left alone.
 */
export function settle(context: SettleContext, claim: Claim, outcome: SettleOutcome): Settlement {
  const { spool, log } = context;
  const { entry } = claim;
  const id = entry.report.id;
  switch (outcome.kind) {
    case 'success':
      remove(spool, claim);
      log.debug(`report ${id} delivered to ${entry.transport.name}${outcome.note ? ` (${outcome.note})` : ''}`);
      if (outcome.rejected) {
        log.warn(`${entry.transport.name} took report ${id} but rejected ${outcome.rejected} of its data points; counted as dropped (refused)`);
        return { settled: 'delivered', lost: { refused: outcome.rejected } };
      }
      return { settled: 'delivered', lost: NOTHING_LOST };
    case 'retryable': {
      const attempts = entry.attempts + 1;
      log.debug(`report ${id} kept for a later attempt at ${entry.transport.name}: ${outcome.reason}`);
      return keep(context, claim, { attempts, nextAttemptAt: context.now() + retryDelayMs(attempts, outcome.retryAfterMs) }, 'kept');
    }
    case 'failure':
      remove(spool, claim);
      if (outcome.gone) context.onGone(entry);
      log.warn(`report ${id} refused by ${entry.transport.name}: ${outcome.reason}; its counts are reported as dropped`);
      return { settled: 'refused', lost: lossOf(entry.report, 'refused') };
    case 'withdrawn':
      remove(spool, claim);
      log.debug(`report ${id} deleted unsent: consent no longer holds`);
      return { settled: 'withdrawn', lost: NOTHING_LOST };
    case 'invalid':
      remove(spool, claim);
      log.warn(`report ${id} is not a valid report; its counts are reported as dropped (invalid)`);
      return { settled: 'invalid', lost: lossOf(entry.report, 'invalid') };
    case 'unsent':
      if (claim.path === undefined) return keep(context, claim, entry, 'unsent');
      spool?.putBack(claim);
      return { settled: 'unsent', lost: NOTHING_LOST };
    case 'interrupted':
      return keep(context, claim, { attempts: entry.attempts, nextAttemptAt: context.now() }, 'kept');
  }
}

function remove(spool: Spool | undefined, claim: Claim): void {
  if (claim.path === undefined) claim.settled = true;
  else spool?.remove(claim);
}

/**
 * Puts a claim back for a later attempt, settled as `as`. A claim with no file (the spool could not be
 * written when the report was made) gets one now if it can; if not, its counts are lost (`network`),
 * and it is settled as `refused`.
 */
function keep(context: SettleContext, claim: Claim, next: { attempts: number; nextAttemptAt: number }, as: Settled): Settlement {
  const kept = { settled: as, lost: NOTHING_LOST };
  if (claim.settled) return kept;
  if (claim.path !== undefined && context.spool !== undefined) {
    context.spool.release(claim, next);
    return kept;
  }
  claim.settled = true;
  if (context.spool?.add({ ...claim.entry, ...next, sealed: true }, claim.index)) return kept;
  context.log.warn(`report ${claim.entry.report.id} could not be kept for ${claim.entry.transport.name} (the spool cannot be written); its counts are reported as dropped (network), for this process's next report`);
  return { settled: 'refused', lost: lossOf(claim.entry.report, 'network') };
}
