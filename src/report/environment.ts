import { arch, availableParallelism, platform, release, totalmem } from 'node:os';
import type { Report } from './report.js';

/** Facts about the process and machine that reports carry, gathered once: nothing here identifies anyone. */
export interface EnvironmentFacts {
  readonly runtime: NonNullable<Report['runtime']>;
  /** Absent in browsers and workers, which do not tell it without fingerprinting. */
  readonly platform?: NonNullable<Report['platform']>;
}

const GiB = 1024 ** 3;

/** Reads the runtime and platform facts. */
export function environmentFacts(): EnvironmentFacts {
  const versions = process.versions as NodeJS.ProcessVersions & { bun?: string; deno?: string };
  const runtime =
    versions.bun !== undefined ? { name: 'bun', version: versions.bun }
    : versions.deno !== undefined ? { name: 'deno', version: versions.deno }
    : { name: 'node', version: versions.node };
  return {
    runtime,
    platform: {
      os: platform(),
      arch: arch(),
      release: release(),
      cpus: availableParallelism(),
      memoryGiB: Math.round(totalmem() / GiB),
    },
  };
}
