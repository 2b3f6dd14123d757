#!/usr/bin/env node
import { optionsFromArgs, USAGE } from './options.js';
import { startCollector } from './server.js';

const options = optionsFromArgs(process.argv.slice(2), process.env);
if (options === 'help') {
  process.stdout.write(USAGE);
} else if ('error' in options) {
  process.stderr.write(`tallyho-collector: ${options.error}\n\n${USAGE}`);
  process.exitCode = 2;
} else {
  try {
    const collector = await startCollector(options);
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) return;
      stopping = true;
      collector.app.log.info({ signal }, 'stopping: answering the requests in progress, then closing the store');
      collector.close().then(
        () => process.exit(0),
        (error: unknown) => {
          process.stderr.write(`tallyho-collector: ${(error as Error).message}\n`);
          process.exit(1);
        },
      );
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  } catch (error) {
    process.stderr.write(`tallyho-collector: could not start: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}
