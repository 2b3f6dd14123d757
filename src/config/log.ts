/** tallyho's own voice: decisions and warnings on stderr, only when the user asked to see them. */
export interface Log {
  /** Decisions, retries and drops: shown under `TALLYHO_DEBUG`. */
  debug(message: string): void;
  /** Bad input and lost counts: shown under `TALLYHO_DEBUG` or `TALLYHO_SHOW_ME`. */
  warn(message: string): void;
}

/** A log that writes `tallyho(project): message` lines to stderr. Never throws. */
export function createLog(project: string, options: { debug: boolean; showMe: boolean }): Log {
  const write = (line: string): void => {
    try {
      process.stderr.write(`tallyho(${project}): ${line}\n`);
    } catch {
      // stderr is gone (closed pipe): there is nowhere left to say anything.
    }
  };
  return {
    debug: options.debug ? write : () => {},
    warn: options.debug || options.showMe ? (message) => write(`warning: ${message}`) : () => {},
  };
}
