// The journal: an install or uninstall in progress, written (fsync'd) before the first file
// changes and removed when the transaction ends. It holds everything a later run needs to finish
// it or roll it back: each file's previous content (stored.ts), the digest of what replaces it,
// the directories created for it, the restart to do, and how far the run got.
import type { ChangeKind } from './changes.ts';
import { ProviderError } from '../errors.ts';
import type { HostFs } from './host-fs.ts';
import { JOURNAL_FILE } from './paths.ts';
import type { Stored } from './stored.ts';

export interface RestartPlan {
  unit: string;
  daemonReload: boolean;
}

/**
 * applying: files are being written (the kubelet was not restarted: a later run rolls back);
 * restarting: all written, the restart may not have happened (a later run restarts again);
 * checking: restarted, waiting for healthz (a later run checks again);
 * rolling-back: health failed, the previous files are being put back (a later run finishes that);
 * committed: done, the backups and emptied directories are being removed (a later run finishes that).
 */
export type Phase = 'applying' | 'restarting' | 'checking' | 'rolling-back' | 'committed';

export interface JournalChange {
  path: string;
  kind: ChangeKind;
  before: Stored | null; // null: the file did not exist
  after: { sha256: string; mode: number } | null; // null: the file is removed
}

export interface Journal {
  version: 1;
  operation: 'install' | 'uninstall';
  phase: Phase;
  restart: RestartPlan | null;
  changes: JournalChange[];
  createdDirs: string[]; // host paths, outermost first
  removeDirs: string[]; // removed when empty once committed (uninstall: the directories install made)
  failure?: string; // why it is rolling back
  payload?: { dir: string; replaced: boolean }; // a payload directory installed (a damaged copy moved aside) before the files
  prune?: { base: string; keep: string[] }[]; // payload directories removed once committed, but those kept
  rescuePayload?: string; // the payload directory the dead-man timer runs recover from (dead-man.ts)
}

export function readJournal(fs: HostFs): Journal | undefined {
  const text = fs.readText(JOURNAL_FILE);
  if (text === undefined) return undefined;
  try {
    const j = JSON.parse(text) as Journal;
    if (j.version !== 1 || !Array.isArray(j.changes)) throw new Error('unknown format');
    return j;
  } catch {
    throw new ProviderError('install', `cannot read the installer journal ${JOURNAL_FILE}; check the files it names by hand, then remove it`);
  }
}

export async function writeJournal(fs: HostFs, journal: Journal): Promise<void> {
  await fs.write(JOURNAL_FILE, Buffer.from(`${JSON.stringify(journal)}\n`), 0o600);
}

export function removeJournal(fs: HostFs): void {
  fs.remove(JOURNAL_FILE);
}
