import { errorText } from '../config/error-text.js';
import type { Log } from '../config/log.js';
import { onProcessExit } from './exit-hook.js';
import type { FlushResult, Reporter } from './reporter.js';
import { type CounterTable, recordExit, type RunOutcome } from '../registry/counter-table.js';

/** How long a timer-driven flush may retry: it holds nothing open, and the next tick comes anyway. */
const FLUSH_DEADLINE_MS = 10_000;
const DEFAULT_FLUSH_TIMEOUT_MS = 5000;

/** What the host calls on one telemetry's lifecycle. */
export interface Lifecycle {
  /** An explicit flush, held while awaited, resolved by `timeoutMs` (default 5,000 ms). */
  flush(timeoutMs?: number): Promise<FlushResult>;
  /** The final flush; the timer stops. */
  shutdown(timeoutMs?: number): Promise<FlushResult>;
}

/** What a telemetry's lifecycle drives. */
export interface LifecycleOptions {
  readonly table: CounterTable;
  readonly reporter: Reporter;
  /** The periodic flush interval in seconds, or `false`. */
  readonly timer: number | false;
  /** False under the test kit: no exit hook, no timer (reports go to memory when flushed). */
  readonly hooks: boolean;
  /** Whether reports carry how runs end (`usage` and above): below, exit records nothing of its own. */
  readonly runs: boolean;
  readonly log: Log;
}

/** One telemetry, as the exit hook finishes it. */
interface Finisher {
  readonly table: CounterTable;
  readonly reporter: Reporter;
  readonly runs: boolean;
  readonly log: Log;
}

/** Telemetries of this copy of tallyho that are live, and those shut down that exit must still finish. */
const live = new Set<Finisher>();
const shutDown = new Set<Finisher>();
let hooked = false;

/**
 * One exit hook for every telemetry of this copy of tallyho, attached with the first: a program (or a
 * test suite) that creates telemetries by the dozen adds one set of process listeners, not one each,
 * and Node never warns of too many listeners on tallyho's account.
 */
function finishAtExit(finisher: Finisher): void {
  live.add(finisher);
  if (hooked) return;
  hooked = true;
  onProcessExit((signal, code) => {
    const outcome = runOutcome(signal, code ?? process.exitCode);
    for (const { table, reporter, runs, log } of [...live, ...shutDown]) {
      try {
        if (runs) recordExit(table, outcome, process.uptime() * 1000);
        reporter.flushAtExit(signal === null ? 'exit' : 'signal');
      } catch (error) {
        log.warn(`exit report failed: ${errorText(error)}`);
      }
    }
  });
}

/**
 * The lifecycle of one enabled telemetry: the exit hook (the run's outcome, then the last report, to
 * the spool), the periodic flush, and the flushes the host awaits. A telemetry that is shut down is
 * still finished at exit: how the run ends is only known then, and what is counted after the final
 * flush is kept for the next report rather than lost. Of those shut down, only the ones that still
 * hold something, and the last per project, are kept: creating and shutting down telemetries keeps
 * nothing growing.
 */
export function startLifecycle(options: LifecycleOptions): Lifecycle {
  const { table, reporter, log } = options;
  const finisher: Finisher = { table, reporter, runs: options.runs, log };
  if (options.hooks) finishAtExit(finisher);
  let timer: NodeJS.Timeout | undefined;
  if (options.timer !== false && options.hooks) {
    timer = setInterval(() => void reporter.flush('timer', AbortSignal.timeout(FLUSH_DEADLINE_MS)), options.timer * 1000);
    timer.unref();
  }
  return {
    flush: (timeoutMs) => awaited(reporter, timeoutMs),
    shutdown(timeoutMs) {
      clearInterval(timer);
      if (live.delete(finisher)) {
        // Of the telemetries shut down for this project, one is enough to record the run's end; the
        // others are kept only while they hold losses or reports in flight that their exit must report.
        for (const other of shutDown) if (other.table === table && !other.reporter.holding()) shutDown.delete(other);
        shutDown.add(finisher);
      }
      return awaited(reporter, timeoutMs);
    },
  };
}

function runOutcome(signal: NodeJS.Signals | null, code: number | string | null | undefined): RunOutcome {
  if (signal !== null) return 'signal';
  return code !== undefined && code !== null && code !== 0 && code !== '0' ? 'nonZero' : 'normal';
}

/**
 * A promise that keeps the process alive once someone waits for it: `await` and `.then()` call its
 * `then`, which refs the flush's timer. Only then: a flush nobody waits for (`void telemetry.flush()`)
 * must not hold an ending process open; at exit, what it was sending goes back to the spool.
 */
class HeldPromise<T> extends Promise<T> {
  // Promises derived from this one (by then, catch, finally) are plain ones.
  static override get [Symbol.species](): PromiseConstructor {
    return Promise;
  }
  hold: (() => void) | undefined;
  override then<A = T, B = never>(
    onFulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    this.hold?.();
    return super.then(onFulfilled, onRejected);
  }
}

/**
 * An explicit flush or shutdown, as the host awaits it: while awaited it holds a ref'd timer for its
 * own duration (tallyho's sockets are unref'd, so without it a process with nothing else to do would
 * end at the `await`, and the code after it would never run), and it resolves by `timeoutMs` whatever
 * the network does; the send still in flight then is aborted, and what it carried waits in the spool.
 */
function awaited(reporter: Reporter, timeoutMs: number = DEFAULT_FLUSH_TIMEOUT_MS): Promise<FlushResult> {
  // setTimeout's own limit is 2^31 - 1 ms; what is not a usable number takes the default.
  const limit = typeof timeoutMs === 'number' && timeoutMs >= 0 ? Math.min(timeoutMs, 2 ** 31 - 1) : DEFAULT_FLUSH_TIMEOUT_MS;
  const stop = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const result = new HeldPromise<FlushResult>((resolve) => {
    timer = setTimeout(() => {
      stop.abort();
      resolve({ status: 'timeout', calls: 0, outcomes: [] });
    }, limit);
    timer.unref();
    void reporter.flush('manual', stop.signal).then((flushed) => {
      clearTimeout(timer);
      resolve(flushed);
    });
  });
  result.hold = () => timer?.ref();
  return result;
}
