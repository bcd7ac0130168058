// A planned change of one host file. Plans are lists of these: computed first, then shown
// (--dry-run) or applied, so a second run with the same inputs finds nothing to do.
import { createHash } from 'node:crypto';

export type ChangeKind = 'binary' | 'provider-config' | 'kubelet-config' | 'kubelet-flags';

export interface FileChange {
  path: string; // host path (symlinks resolved)
  kind: ChangeKind;
  before: Buffer | undefined; // undefined: the file does not exist
  beforeMode: number | undefined;
  after: Buffer | undefined; // undefined: remove the file
  mode: number; // mode of the written file
}

export function sha256(data: Buffer | undefined): string {
  return data === undefined ? 'absent' : createHash('sha256').update(data).digest('hex');
}

/** The change, or undefined when the file already has that content and mode. */
export function fileChange(path: string, kind: ChangeKind, before: Buffer | undefined, beforeMode: number | undefined, after: Buffer | undefined, mode: number): FileChange | undefined {
  const sameContent = before === undefined ? after === undefined : after !== undefined && before.equals(after);
  if (sameContent && (after === undefined || beforeMode === mode)) return undefined;
  return { path, kind, before, beforeMode, after, mode };
}

/** Kubelet-facing changes need a restart; the binary and the provider config are read per call. */
export function needsRestart(change: FileChange): boolean {
  return change.kind === 'kubelet-config' || change.kind === 'kubelet-flags';
}
