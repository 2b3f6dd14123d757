// A TypeScript consumer. The test copies it into four projects as main.ts and compiles it with TC39
// decorators and with experimentalDecorators, each as an ES module and as CommonJS, type-checking it
// against the installed package's declarations. (Kept as .mts here so that the repository's own
// type-check, which runs before the package is built, leaves it alone.)
import { createTelemetry, type TrackDecorator } from 'tallyho';
import type { CountSnapshot } from 'tallyho/testing';

const telemetry = createTelemetry({ project: 'consumer-ts', version: '1.0.0' });
const track: TrackDecorator = telemetry.track();

@telemetry.track()
export class Client {
  constructor(readonly url: string) {}

  static create(url: string): Client {
    return new Client(url);
  }

  query(sql: string): number {
    return sql.length;
  }
}

export class Parser {
  @track
  parse(src: string): string {
    return src.trim();
  }

  @telemetry.track()
  get ready(): boolean {
    return true;
  }

  @telemetry.track({ name: 'Parser.version' })
  static version(): string {
    return '1';
  }
}

/** Never called: it fails to compile if the package's types are missing or too loose. */
export function typesAreChecked(snapshot: CountSnapshot): number | undefined {
  // @ts-expect-error count() takes a name, not a number
  telemetry.count(42);
  // @ts-expect-error track() options are typed: a misspelt option is an error
  telemetry.track({ nmae: 'x' });
  return snapshot.counts['Client#query'];
}

const client = Client.create('a');
const results = [
  client.query('x'),
  client.query('yy'),
  new Client('b').query('zzz'),
  new Parser().parse(' p '),
  new Parser().parse('q '),
  new Parser().ready,
  Parser.version(),
  client instanceof Client,
  Client.name,
];
console.log(JSON.stringify(results));
