import { describe, expect, it } from 'vitest';
import { classPart, fitNamePart, isCounterName, MAX_CLASS_PART, MAX_MEMBER_PART, MAX_NAME_LENGTH } from '../../src/registry/counter-table.js';
import { createTelemetry } from '../../src/telemetry.js';
import { useTestKit } from '../telemetry/kit.js';

describe('fitNamePart', () => {
  it('keeps a printable part that fits, as it is', () => {
    expect(fitNamePart('Client', MAX_CLASS_PART)).toBe('Client');
    expect(fitNamePart('café ☕', MAX_CLASS_PART)).toBe('café ☕');
  });

  it('removes control and format code points (U+200D, bidi overrides, NUL)', () => {
    expect(fitNamePart('Cli\u200Dent\u202E\u0000', MAX_CLASS_PART)).toBe('Client');
  });

  it('cuts a long member part the same way', () => {
    expect(fitNamePart(`#${'m'.repeat(120)}`, MAX_MEMBER_PART)).toBe(`#${'m'.repeat(MAX_MEMBER_PART - 2)}…`);
  });

  it('cuts a long part to its limit, marked with an ellipsis, never inside a surrogate pair', () => {
    const cut = fitNamePart('C'.repeat(120), MAX_CLASS_PART);
    expect(cut).toHaveLength(MAX_CLASS_PART);
    expect(cut.endsWith('…')).toBe(true);
    const emoji = fitNamePart('😀'.repeat(80), MAX_CLASS_PART);
    expect(emoji.length).toBeLessThanOrEqual(MAX_CLASS_PART);
    expect(isCounterName(emoji)).toBe(true);
  });

  it('gives every name built from code room: the longest class and member parts still make a valid name', () => {
    expect(isCounterName(`new ${'C'.repeat(MAX_CLASS_PART)}`)).toBe(true);
    expect(isCounterName(`${'C'.repeat(MAX_CLASS_PART)}${'#'.padEnd(MAX_MEMBER_PART, 'm')}`)).toBe(true);
    expect(MAX_CLASS_PART + MAX_MEMBER_PART).toBeLessThanOrEqual(MAX_NAME_LENGTH);
  });

  it('calls a class with no printable name anonymous', () => {
    expect(classPart('\u200D')).toBe('anonymous');
  });
});

describe('names from code never cost a report its other counts', () => {
  const { flushOne, project: freshProject } = useTestKit('names');

  it('a class name of 120 characters and a method of 90 are cut at decoration time, and reported', async () => {
    const project = freshProject();
    const telemetry = createTelemetry({ project, version: '1.0.0' });
    const className = 'C'.repeat(120);
    const method = 'm'.repeat(90);
    const Long = { [className]: class { [method]() { return 1; } } }[className]!;
    const Tracked = (telemetry.track() as (c: typeof Long) => typeof Long | undefined)(Long) ?? Long;
    new Tracked()[method]!();
    telemetry.count('feature.ok');
    const report = await flushOne(telemetry, project);
    const names = Object.keys(report.counts);
    expect(report.counts['feature.ok']).toBe(1);
    expect(names).toHaveLength(3);
    for (const name of names) expect(isCounterName(name)).toBe(true);
    expect(names.find((n) => n.startsWith('new '))).toBe(`new ${'C'.repeat(MAX_CLASS_PART - 1)}…`);
    expect(names.find((n) => n.includes('#'))).toBe(`${'C'.repeat(MAX_CLASS_PART - 1)}…#${method}`);
    expect(report.dropped).toEqual({});
  });

  it('a name containing U+200D is counted without it', async () => {
    const project = freshProject();
    const telemetry = createTelemetry({ project, version: '1.0.0' });
    const Odd = { ['Zero\u200DWidth']: class { 'go\u200Dnow'() { return 1; } } }['Zero\u200DWidth']!;
    const Tracked = (telemetry.track() as (c: typeof Odd) => typeof Odd | undefined)(Odd) ?? Odd;
    new Tracked()['go\u200Dnow']();
    const report = await flushOne(telemetry, project);
    expect(report.counts).toEqual({ 'new ZeroWidth': 1, 'ZeroWidth#gonow': 1 });
  });

  it('a name that still breaks the rule is dropped alone, counted as invalid', async () => {
    const project = freshProject();
    const telemetry = createTelemetry({ project, version: '1.0.0' });
    class Client {
      query(): number {
        return 1;
      }
      ping(): number {
        return 2;
      }
    }
    // An explicit name of nothing printable leaves nothing to count under.
    const descriptor = Object.getOwnPropertyDescriptor(Client.prototype, 'query')!;
    const decorate = telemetry.track({ name: '\u200D' }) as (t: object, k: string, d: PropertyDescriptor) => PropertyDescriptor | undefined;
    Object.defineProperty(Client.prototype, 'query', decorate(Client.prototype, 'query', descriptor) ?? descriptor);
    const ping = Object.getOwnPropertyDescriptor(Client.prototype, 'ping')!;
    Object.defineProperty(Client.prototype, 'ping', (telemetry.track() as typeof decorate)(Client.prototype, 'ping', ping) ?? ping);
    const client = new Client();
    client.query();
    client.query();
    client.ping();
    const report = await flushOne(telemetry, project);
    expect(report.counts).toEqual({ 'Client#ping': 1 });
    expect(report.dropped).toEqual({ invalid: 2 });
  });
});
