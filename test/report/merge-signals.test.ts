import { describe, expect, it } from 'vitest';
import { mergeSignals, sameDependencies } from '../../src/report/merge-signals.js';
import { sampleReport } from '../transports/receiver.js';

describe('mergeSignals', () => {
  it('sums durations, numbers, choices and run outcomes bucket by bucket', () => {
    const a = sampleReport({
      durations: { 'Client#query': { '0.004': 2 } },
      numbers: { files: { '7': 1 } },
      choices: { format: { csv: 1 } },
      exits: { normal: 1, nonZero: 0, signal: 0, duration: { '1048.576': 1 } },
    });
    const b = sampleReport({
      durations: { 'Client#query': { '0.004': 1, '+Inf': 1 }, parse: { '0.001': 5 } },
      choices: { format: { csv: 2, other: 1 } },
      exits: { normal: 0, nonZero: 1, signal: 0, duration: { '1048.576': 1 } },
    });
    expect(mergeSignals([a, b, sampleReport()])).toEqual({
      durations: { 'Client#query': { '0.004': 3, '+Inf': 1 }, parse: { '0.001': 5 } },
      numbers: { files: { '7': 1 } },
      choices: { format: { csv: 3, other: 1 } },
      exits: { normal: 1, nonZero: 1, signal: 0, duration: { '1048.576': 2 } },
    });
    // The inputs are left as they were.
    expect(a.durations).toEqual({ 'Client#query': { '0.004': 2 } });
    expect(mergeSignals([sampleReport()])).toEqual({});
  });

  it('lets only reports with the same dependency versions merge, whatever their order', () => {
    const a = sampleReport({ dependencies: { react: '18.3.1', zod: '4.0.0' } });
    expect(sameDependencies(a, sampleReport({ dependencies: { zod: '4.0.0', react: '18.3.1' } }))).toBe(true);
    expect(sameDependencies(a, sampleReport({ dependencies: { react: '19.0.0', zod: '4.0.0' } }))).toBe(false);
    expect(sameDependencies(a, sampleReport())).toBe(false);
    expect(sameDependencies(sampleReport(), sampleReport())).toBe(true);
  });
});
