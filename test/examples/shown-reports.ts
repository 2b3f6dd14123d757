import type { Report } from '../../src/report/report.js';
import { ReportSchema } from '../../src/report/schema.js';

/** The environment the examples' tests run them in: CI and a test runner, so each runner must opt in itself. */
export function exampleEnv(home: string): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: home, TALLYHO_HOME: home, CI: 'true', VITEST: 'true' };
}

/** The reports TALLYHO_SHOW_ME=1 printed to stderr, in order, each checked against the wire contract. */
export function shownReports(stderr: string, project: string): { trigger: string; report: Report }[] {
  const header = new RegExp(`^tallyho: report for ${project} \\((\\w+)\\), exactly as sent:$`);
  const lines = stderr.split('\n');
  const shown: { trigger: string; report: Report }[] = [];
  lines.forEach((line, i) => {
    const match = header.exec(line);
    if (match !== null) shown.push({ trigger: match[1]!, report: ReportSchema.parse(JSON.parse(lines[i + 1]!)) });
  });
  return shown;
}
