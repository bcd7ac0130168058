// A planned change of one host file. Plans are lists of these: computed first, then shown
// (--dry-run) or applied, so a second run with the same inputs finds nothing to do.
import { createHash } from 'node:crypto';

export type ChangeKind = 'binary' | 'provider-config' | 'kubelet-config' | 'kubelet-flags' | 'installer-state';

/** A file's content: its bytes (text files), or only its digest and, to write it, a pod-side file to copy. */
export interface Content {
  sha256: string;
  size: number;
  bytes?: Buffer;
  source?: string;
}

export interface FileChange {
  path: string; // host path (symlinks resolved)
  kind: ChangeKind;
  before: Content | undefined; // undefined: the file does not exist
  beforeMode: number | undefined;
  after: Content | undefined; // undefined: remove the file
  mode: number; // mode of the written file
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function bytes(data: Buffer): Content {
  return { sha256: sha256(data), size: data.length, bytes: data };
}

export function optionalBytes(data: Buffer | undefined): Content | undefined {
  return data === undefined ? undefined : bytes(data);
}

/** The change, or undefined when the file already has that content and mode. */
export function fileChange(path: string, kind: ChangeKind, before: Content | undefined, beforeMode: number | undefined, after: Content | undefined, mode: number): FileChange | undefined {
  if (before?.sha256 === after?.sha256 && (after === undefined || beforeMode === mode)) return undefined;
  return { path, kind, before, beforeMode, after, mode };
}

/** Kubelet-facing changes need a restart; the binary and the provider config are read per call. */
export function needsRestart(change: FileChange): boolean {
  return change.kind === 'kubelet-config' || change.kind === 'kubelet-flags';
}

export function describeChanges(changes: FileChange[]): string {
  return changes
    .filter((c) => c.kind !== 'installer-state')
    .map((c) => `${c.after === undefined ? 'removed' : c.before === undefined ? 'created' : 'updated'} ${c.path}`)
    .join(', ');
}
