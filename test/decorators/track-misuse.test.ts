import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTelemetry } from '../../src/telemetry.js';
import { installTestKit, type TestKit } from '../../src/testing.js';

// Calls that no decorator syntax type-checks, as plain JavaScript or a misplaced decorator makes them.
describe('track() called where it cannot count', () => {
  let kit: TestKit;
  beforeEach(() => {
    kit = installTestKit();
  });
  afterEach(() => kit.uninstall());

  it('leaves a class alone when used as a constructor parameter decorator', () => {
    const telemetry = createTelemetry({ project: 'decorators-misuse-parameter', version: '1.0.0' });
    class Client {
      query(): string {
        return 'rows';
      }
    }
    const query = Client.prototype.query;
    const decorate = telemetry.track() as unknown as (target: object, key: undefined, index: number) => unknown;
    // What tsc's __param and esbuild's __decorateParam pass for `constructor(@track() db)`.
    expect(decorate(Client, undefined, 0)).toBeUndefined();
    expect(Client.prototype.query).toBe(query);
    new Client().query();
    expect(kit.counts('decorators-misuse-parameter').counts).toEqual({});
  });

  it('leaves a method alone when used as a method parameter decorator', () => {
    const telemetry = createTelemetry({ project: 'decorators-misuse-method-parameter', version: '1.0.0' });
    class Client {
      query(_sql: string): string {
        return 'rows';
      }
    }
    const query = Client.prototype.query;
    const decorate = telemetry.track() as unknown as (target: object, key: string, index: number) => unknown;
    expect(decorate(Client.prototype, 'query', 0)).toBeUndefined();
    expect(Client.prototype.query).toBe(query);
  });
});
