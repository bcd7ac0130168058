// --dry-run output: the plan as unified diffs (binaries and the payload as one-line summaries).
import { createTwoFilesPatch } from 'diff';
import type { Content, FileChange } from './changes.ts';
import type { RestartPlan } from './transaction.ts';

export function renderChanges(changes: FileChange[], restart: RestartPlan | undefined, warnings: string[], notes: string[] = []): string {
  const parts: string[] = notes.map((n) => `# ${n}\n`);
  for (const c of changes) {
    const modeNote = c.after !== undefined && c.beforeMode !== undefined && c.beforeMode !== c.mode ? ` (mode ${octal(c.beforeMode)} -> ${octal(c.mode)})` : c.before === undefined && c.after !== undefined ? ` (new, mode ${octal(c.mode)})` : '';
    if (!isText(c.before) || !isText(c.after)) {
      const what = c.after === undefined ? 'remove' : c.before === undefined ? 'create' : 'replace';
      parts.push(`# ${what} ${c.path}${modeNote}: sha256 ${short(c.before)} -> ${short(c.after)}, ${c.after?.size ?? 0} bytes\n`);
      continue;
    }
    const from = c.before === undefined ? '/dev/null' : `a${c.path}`;
    const to = c.after === undefined ? '/dev/null' : `b${c.path}`;
    parts.push(`# ${c.kind} ${c.path}${modeNote}\n${createTwoFilesPatch(from, to, c.before?.bytes?.toString('utf8') ?? '', c.after?.bytes?.toString('utf8') ?? '', '', '')}`);
  }
  if (changes.length === 0) parts.push('# no changes\n');
  parts.push(restart ? `# then: ${restart.daemonReload ? 'systemctl daemon-reload, ' : ''}systemctl restart ${restart.unit}, wait for the kubelet's healthz\n` : '# no restart needed\n');
  for (const w of warnings) parts.push(`# warning: ${w}\n`);
  return parts.join('');
}

function isText(c: Content | undefined): boolean {
  return c === undefined || (c.bytes !== undefined && !c.bytes.includes(0) && c.size < 1024 * 1024);
}

function short(c: Content | undefined): string {
  return c === undefined ? 'absent' : c.sha256.slice(0, 12);
}

function octal(mode: number): string {
  return `0${mode.toString(8)}`;
}
