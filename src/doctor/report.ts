// A doctor check result and how the report is printed: one line per check (status, check id,
// what was found and, when something is wrong, what to do), or one JSON document.
import { oneLine } from '../log/logger.ts';

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

export interface Check {
  /** Stable id for machines, e.g. "metadata", "permission.cr:ListInstance", "token.<host>". */
  id: string;
  status: CheckStatus;
  message: string;
}

export interface DoctorReport {
  program: string;
  version: string;
  time: string;
  ok: boolean;
  counts: Record<CheckStatus, number>;
  checks: Check[];
}

export function buildReport(program: string, version: string, checks: Check[]): DoctorReport {
  const counts: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const c of checks) counts[c.status]++;
  return { program, version, time: new Date().toISOString(), ok: counts.fail === 0, counts, checks };
}

const LABEL: Record<CheckStatus, string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL', skip: 'SKIP' };

export function renderText(report: DoctorReport): string {
  const width = Math.min(40, Math.max(...report.checks.map((c) => c.id.length), 8));
  const lines = [`${report.program} ${report.version} doctor, ${report.time}`];
  for (const c of report.checks) lines.push(`${LABEL[c.status]}  ${c.id.padEnd(width)}  ${oneLine(c.message)}`);
  const { pass, warn, fail, skip } = report.counts;
  lines.push(`${fail === 0 ? 'OK' : 'NOT OK'}: ${pass} passed, ${warn} warnings, ${fail} failed, ${skip} skipped`);
  return `${lines.join('\n')}\n`;
}

export function renderJson(report: DoctorReport): string {
  return `${JSON.stringify({ ...report, checks: report.checks.map((c) => ({ ...c, message: oneLine(c.message) })) }, null, 2)}\n`;
}
