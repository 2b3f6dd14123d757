// A command-line tool, instrumented by its author: it does its work and exits at once. Its report is
// written to tallyho's spool as it exits, and a detached sender delivers it afterwards: the tool
// never waits for the network.
//
//   node examples/cli-tool/acme-cli.mjs stats "some text" "more
//   text"
import { createTelemetry, httpTransport } from 'tallyho';

export const telemetry = createTelemetry({
  project: 'acme-cli',
  version: '3.1.0',
  // The author's endpoint. ACME_REPORTS_URL exists for this example only, so that run.mjs can point
  // the tool at a receiver of its own; a user redirects reports with TALLYHO_ENDPOINT.
  transports: [httpTransport(process.env.ACME_REPORTS_URL ?? 'https://telemetry.acme.dev/v1/reports')],
});

// Plain JavaScript has no decorator syntax on Node 20: the decorator is applied as a function.
// Counted: `new TextStats`, `TextStats#words`, `TextStats#lines`.
const TextStats = telemetry.track()(
  class TextStats {
    words(text) {
      return text.split(/\s+/).filter(Boolean).length;
    }
    lines(text) {
      return text.split('\n').length;
    }
  },
);

const [command, ...inputs] = process.argv.slice(2);
if (command !== 'stats') {
  console.error('usage: acme-cli stats <text>...');
  process.exitCode = 2;
} else {
  telemetry.count('command.stats');
  const stats = new TextStats();
  for (const text of inputs) {
    console.log(`${JSON.stringify(text)}: ${stats.words(text)} words, ${stats.lines(text)} lines`);
  }
}
