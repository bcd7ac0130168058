// --dry-run output: the plan as unified diffs (binaries as a one-line summary).
import { createTwoFilesPatch } from 'diff';
import { sha256, type FileChange } from './changes.ts';
import type { RestartPlan } from './transaction.ts';

export function renderChanges(changes: FileChange[], restart: RestartPlan | undefined, warnings: string[]): string {
  const parts: string[] = [];
  for (const c of changes) {
    const modeNote = c.after !== undefined && c.beforeMode !== undefined && c.beforeMode !== c.mode ? ` (mode ${octal(c.beforeMode)} -> ${octal(c.mode)})` : c.before === undefined && c.after !== undefined ? ` (new, mode ${octal(c.mode)})` : '';
    if (c.kind === 'binary' || !isText(c.before) || !isText(c.after)) {
      const what = c.after === undefined ? 'remove' : c.before === undefined ? 'create' : 'replace';
      parts.push(`# ${what} ${c.path}${modeNote}: sha256 ${sha256(c.before).slice(0, 12)} -> ${sha256(c.after).slice(0, 12)}, ${c.after?.length ?? 0} bytes\n`);
      continue;
    }
    const from = c.before === undefined ? '/dev/null' : `a${c.path}`;
    const to = c.after === undefined ? '/dev/null' : `b${c.path}`;
    parts.push(`# ${c.kind} ${c.path}${modeNote}\n${createTwoFilesPatch(from, to, c.before?.toString('utf8') ?? '', c.after?.toString('utf8') ?? '', '', '')}`);
  }
  if (changes.length === 0) parts.push('# no changes\n');
  parts.push(restart ? `# then: ${restart.daemonReload ? 'systemctl daemon-reload, ' : ''}systemctl restart ${restart.unit}, wait for the kubelet's healthz\n` : '# no restart needed\n');
  for (const w of warnings) parts.push(`# warning: ${w}\n`);
  return parts.join('');
}

function isText(b: Buffer | undefined): boolean {
  return b === undefined || (!b.includes(0) && b.length < 1024 * 1024);
}

function octal(mode: number): string {
  return `0${mode.toString(8)}`;
}
