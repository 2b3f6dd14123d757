import { validReport } from '../report/valid-report.js';
import { errorText } from '../config/error-text.js';
import type { SendOutcome, Transport } from '../transports/transport.js';
import { mergeBatch } from './batch.js';
import { settle, type SettleContext, type Settlement } from './settle.js';
import type { Claim, Spool, SpoolEntry } from './spool.js';

/** What delivering claimed reports needs from its caller (the host's flush, or the detached sender). */
export interface DeliveryOptions extends SettleContext {
  /** Aborted when the caller stops waiting (the sender's watchdog, the host's flush deadline). */
  readonly signal: AbortSignal;
  /** The transport for an entry, or `undefined` to leave the entry for a process that has it. */
  transportFor(entry: SpoolEntry): Transport | undefined;
  /** Consent is checked again before every send: `false` deletes the entry unsent. */
  consentHolds(entry: SpoolEntry): boolean;
  /** Told of the claims about to be sent (the host puts back at exit whichever is still in flight). */
  onClaims?(claims: readonly Claim[]): void;
  /**
   * Told of each claim as it is settled, before the rest of the batch is sent: where its losses go
   * (the host's next report, or the spool for the sender), at once, for the process may end before
   * the batch does.
   */
  onSettled(delivered: Delivered): void;
}

/** What became of one claim. */
export interface Delivered extends Settlement {
  readonly claim: Claim;
  /** The transport's answer; absent when the report was not sent. */
  readonly outcome?: SendOutcome;
}

/**
 * Sends claimed reports and settles each. Reports for different transports go out at once; reports
 * for one transport one after another. Consent is checked before each send and again after a send
 * that did not succeed (an opt-out during the retries); the wire contract is checked here, where a
 * report leaves the machine. Never throws on a transport's account.
 */
export async function deliverClaims(options: DeliveryOptions, claims: readonly Claim[]): Promise<Delivered[]> {
  options.onClaims?.(claims);
  const byTransport = new Map<string, Claim[]>();
  for (const claim of claims) {
    const name = claim.entry.transport.name;
    byTransport.set(name, [...(byTransport.get(name) ?? []), claim]);
  }
  const results = new Map<Claim, Delivered>();
  await Promise.all(
    [...byTransport.values()].map(async (queue) => {
      for (const claim of queue) {
        const delivered = await deliverOne(options, claim);
        results.set(claim, delivered);
        options.onSettled(delivered);
      }
    }),
  );
  return claims.map((claim) => results.get(claim)!);
}

async function deliverOne(options: DeliveryOptions, claim: Claim): Promise<Delivered> {
  const { entry } = claim;
  if (!options.consentHolds(entry)) return { claim, ...settle(options, claim, { kind: 'withdrawn' }) };
  if (validReport(entry.report) === undefined) return { claim, ...settle(options, claim, { kind: 'invalid' }) };
  const transport = options.transportFor(entry);
  if (transport === undefined || options.signal.aborted) return { claim, ...settle(options, claim, { kind: 'unsent' }) };
  let outcome: SendOutcome;
  try {
    outcome = await transport.send(entry.report, { signal: options.signal });
  } catch (error) {
    // A transport must not throw; one that does is treated as a final failure, never passed on.
    outcome = { kind: 'failure', reason: `transport threw: ${errorText(error)}` };
  }
  // Withdrawn while it was being tried (a `tallyho optout` during the retries): gone, unsent.
  if (outcome.kind !== 'success' && !options.consentHolds(entry)) return { claim, outcome, ...settle(options, claim, { kind: 'withdrawn' }) };
  return { claim, outcome, ...settle(options, claim, outcome) };
}

/** What {@link deliverBatch} takes besides the delivery options. */
export interface BatchOptions {
  /** Every report waiting (an explicit flush), rather than only the batches that are due. */
  readonly all?: boolean;
  /** Only the entries this process can send; the others stay as they are. */
  readonly only?: (entry: SpoolEntry) => boolean;
  /** Reports this process has just written, already claimed, to leave with the batch. */
  readonly own?: readonly Claim[];
}

/**
 * The one way reports leave the queue, for the host (flush, timer tick) and the detached sender
 * alike: claim the batch that may leave, merge it per transport and envelope, send, settle. The
 * caller tidies the spool first (`Spool.tidy()`), and reports what that lost as it reports the
 * losses of each claim.
 */
export async function deliverBatch(options: DeliveryOptions & { readonly spool: Spool }, batch: BatchOptions = {}): Promise<Delivered[]> {
  const { spool } = options;
  const now = options.now();
  const claimed = spool.claimBatch(now, { ...(batch.all === undefined ? {} : { all: batch.all }), ...(batch.only === undefined ? {} : { only: batch.only }) });
  const claims = mergeBatch(spool, [...claimed, ...(batch.own ?? [])], now);
  return deliverClaims(options, claims);
}
