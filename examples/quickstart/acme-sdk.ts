// A small instrumented library: what a library author writes.
import { createTelemetry, httpTransport } from 'tallyho';

export const telemetry = createTelemetry({
  project: 'acme-sdk',
  version: '1.4.0',
  // Where the author runs tallyho-collector. A user's TALLYHO_ENDPOINT sends reports elsewhere instead.
  transports: [httpTransport('https://telemetry.acme.dev/v1/reports')],
});

/** Counted: `new Client`, `Client#query`, `Client.parseUrl`. */
@telemetry.track()
export class Client {
  static parseUrl(url: string): URL {
    return new URL(url);
  }

  constructor(readonly url: string) {}

  query(sql: string): string[] {
    return sql.split(' ');
  }
}

export class Parser {
  /** Counted as `Parser#parse`; a parse error also counts under `errors`. */
  @telemetry.track()
  parse(source: string): unknown {
    return JSON.parse(source);
  }
}

/** A plain function, counted by hand. */
export function exportCsv(rows: string[][]): string {
  telemetry.count('feature.export-csv');
  return rows.map((row) => row.join(',')).join('\n');
}
