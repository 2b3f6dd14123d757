import { randomUUID } from '../config/random.js';
import type { Identity } from '../identity/identity.js';
import { addDropped, type Delta, type DropReason, type Dropped } from '../registry/counter-table.js';
import type { EnvironmentFacts } from './environment.js';
import { atLeast, type Level } from '../config/level.js';
import { type Report, SCHEMA_VERSION, type Trigger } from './report.js';

/** What a report says about its project besides the counts. */
export interface ReportContext {
  readonly project: string;
  readonly version: string;
  readonly level: Level;
  readonly facts: EnvironmentFacts;
  readonly ci: boolean;
  /** Salted identifiers; built only for `usage` and above. */
  readonly identity: Identity | undefined;
  /** The installed versions of the packages the author listed, read when first asked for. */
  readonly dependencies?: () => Record<string, string | null> | undefined;
}

/**
 * Builds the report of one delta at the context's level: the envelope, counts, runtime and platform
 * always (`basic`), and each further field only from the level that allows it.
 */
export function buildReport(delta: Delta, trigger: Trigger, context: ReportContext): Report {
  const report: Report = {
    schema: SCHEMA_VERSION,
    id: randomUUID(),
    project: context.project,
    version: context.version,
    level: context.level,
    trigger,
    period: { start: new Date(delta.start).toISOString(), end: new Date(delta.end).toISOString() },
    counts: delta.counts,
    dropped: delta.dropped,
    runs: 1,
    runtime: context.facts.runtime,
    platform: context.facts.platform,
  };
  const { identity } = context;
  if (atLeast(context.level, 'usage')) {
    report.errors = delta.errors;
    report.ci = context.ci;
    if (identity !== undefined) report.weekId = identity.weekId(new Date(delta.end));
    if (notEmpty(delta.durations)) report.durations = delta.durations;
    if (notEmpty(delta.numbers)) report.numbers = delta.numbers;
    if (notEmpty(delta.choices)) report.choices = delta.choices;
    const dependencies = context.dependencies?.();
    if (dependencies !== undefined) report.dependencies = dependencies;
    if (delta.exits !== undefined) report.exits = delta.exits;
  }
  if (atLeast(context.level, 'full') && identity !== undefined) {
    report.installId = identity.installId;
    if (identity.userHash !== undefined) report.userHash = identity.userHash;
    if (identity.machineHash !== undefined) report.machineHash = identity.machineHash;
  }
  return report;
}

function notEmpty(values: object | undefined): values is object {
  return values !== undefined && Object.keys(values).length > 0;
}

/** The number of calls a report (or delta) counts, for drop accounting. */
export function totalCalls(counts: Readonly<Record<string, unknown>> | undefined): number {
  let total = 0;
  // Counts may come from a spool file: whatever is not a finite number counts for nothing.
  for (const n of Object.values(counts ?? {})) if (typeof n === 'number' && Number.isFinite(n)) total += n;
  return total;
}

/**
 * What is lost when a report is lost: its own calls under `reason`, and the losses it was carrying
 * in `dropped`, which would otherwise never be reported.
 */
export function lossOf(report: Report, reason: DropReason): Dropped {
  const loss = addDropped({}, report.dropped);
  loss[reason] = (loss[reason] ?? 0) + totalCalls(report.counts);
  return loss;
}
