// One installer at a time per node, and a tidy state directory. The DaemonSet can start a new
// pod's installer while the old one is still finishing its transaction in its grace period, and
// an operator can run one by hand: the lock file holds the owner's pid and start time (the pod
// runs with hostPID, so these are the host's), and a lock whose owner is gone is taken over.
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { ProviderError } from '../errors.ts';
import type { HostFs } from './host-fs.ts';
import { readJournal } from './journal.ts';
import { LOCK_FILE, STATE_DIR } from './paths.ts';
import { readManifest } from './state.ts';
import { pruneBackups } from './stored.ts';
import { recoverJournal, stoppedBeforeChanges, type TxContext } from './transaction.ts';

/** Directories to remove (when empty) once nothing is installed: those made for the state, and uninstall's. */
export interface StateDirs {
  createdDirs: string[];
}

/**
 * Runs `body` holding the lock, after finishing any transaction an earlier run left; afterwards
 * drops backups nothing needs and, when nothing is installed, the state directory itself.
 */
export async function withInstallerState(ctx: TxContext, lockWaitMs: number, body: (dirs: StateDirs) => Promise<void>): Promise<void> {
  const { fs } = ctx;
  // The state lives in the provider's cache directory, which the provider trusts only at 0700
  // (src/cache/cache-dir.ts): on a fresh node, create that one (and the state) private.
  const cacheDir = posix.dirname(STATE_DIR);
  const dirs: StateDirs = { createdDirs: [...fs.mkdirs(posix.dirname(cacheDir)), ...fs.mkdirs(STATE_DIR, 0o700)] };
  const release = await takeLock(fs, lockWaitMs, (line) => ctx.log('info', line), ctx.signal);
  try {
    await recoverJournal(ctx);
    await body(dirs);
  } finally {
    release();
    tidy(fs, dirs.createdDirs);
  }
}

/** Drops backups nothing needs and, when nothing is installed, the state directory and `createdDirs`. */
export function tidy(fs: HostFs, createdDirs: string[]): void {
  try {
    if (readJournal(fs) !== undefined) return;
    const manifest = readManifest(fs);
    pruneBackups(fs, manifest?.files.map((f) => f.original) ?? []);
    if (manifest !== undefined) return;
    const dirs = [...new Set([STATE_DIR, posix.dirname(STATE_DIR), ...createdDirs])];
    for (const dir of dirs.sort((a, b) => b.split('/').length - a.split('/').length)) fs.rmdirIfEmpty(dir);
  } catch {
    // the state is reported by the next run
  }
}

/** Waits up to `waitMs` for a live holder; takes over a lock whose holder is gone. Returns the release. */
export async function takeLock(fs: HostFs, waitMs: number, log: (line: string) => void, signal: AbortSignal | undefined): Promise<() => void> {
  const me = `${process.pid} ${startTime(process.pid)}\n`;
  const deadline = Date.now() + waitMs;
  let waiting = false;
  for (;;) {
    if (fs.createExclusive(LOCK_FILE, me, 0o600)) return () => fs.readText(LOCK_FILE) === me && fs.remove(LOCK_FILE);
    const holder = fs.readText(LOCK_FILE) ?? '';
    const [pid, start] = holder.trim().split(' ');
    if (startTime(Number(pid)) !== start) {
      fs.remove(LOCK_FILE); // its installer is gone
      continue;
    }
    if (signal?.aborted) throw stoppedBeforeChanges();
    if (Date.now() > deadline) throw new ProviderError('install', `another installer (pid ${pid}) is still working on this node; if none is running, remove ${LOCK_FILE}`);
    if (!waiting) log(`waiting for the installer with pid ${pid} to finish`);
    waiting = true;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Field 22 of /proc/<pid>/stat: the start time, which tells a live owner from a reused pid. */
function startTime(pid: number): string | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}
