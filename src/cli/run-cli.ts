import { VERSION } from '../version.js';

/** Where the command writes. */
export interface CliStreams {
  readonly out: { write(text: string): unknown };
  readonly err: { write(text: string): unknown };
}

const USAGE = `Usage: tallyho <command> [options]

Commands:
  --help       show this help
  --version    print tallyho's version
`;

/** Runs the `tallyho` command; returns the exit code (0 success, 2 usage error). */
export function runCli(args: readonly string[], streams: CliStreams): number {
  const [command] = args;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    streams.out.write(USAGE);
    return 0;
  }
  if (command === '--version' || command === '-v') {
    streams.out.write(`${VERSION}\n`);
    return 0;
  }
  streams.err.write(`tallyho: unknown command "${command}"\n\n${USAGE}`);
  return 2;
}
