// Applies a list of file changes as one transaction: journal first, then the writes, then (when
// the kubelet must see them) one restart and a health watch; a kubelet that does not come back
// gets every file put back and a second restart. An install writes the provider's own files
// first (its payload directory, its config, a new wrapper as a candidate beside the old one),
// runs the smoke test on them, then switches the wrapper and writes the kubelet's files: a
// provider that does not run on the node is rolled back before the kubelet runs or is pointed at it. Writes are atomic, so each file is always either its old or its new
// version. A run that finds a journal finishes that transaction first (recoverJournal): rolled
// back when it stopped while writing, else restarted and checked again.
// Once the journal is written, SIGTERM no longer stops the run: it finishes the decision (the
// pod's grace period covers a health wait, a rollback and a second one). Against SIGKILL then, a
// host timer armed before the restart finishes it if no run does (dead-man.ts).
import { posix } from 'node:path';
import { describeError, ProviderError } from '../errors.ts';
import type { FileChange } from './changes.ts';
import { watched, type DeadMan } from './dead-man.ts';
import type { HostFs } from './host-fs.ts';
import type { HostSystem } from './host-system.ts';
import { readJournal, removeJournal, writeJournal, type Journal, type RestartPlan } from './journal.ts';
import { installPayload, prunePayloads, rollbackPayload, type PayloadStep } from './payload-dir.ts';
import { readManifest } from './state.ts';
import { candidatePath } from './wrapper-file.ts';
import { pruneBackups, putBack, store } from './stored.ts';

export type { RestartPlan } from './journal.ts';

export interface HealthOptions {
  timeoutMs: number;
  intervalMs: number;
}

export interface TxContext {
  fs: HostFs;
  host: HostSystem;
  health: HealthOptions;
  log: (level: 'info' | 'warn', line: string) => void;
  signal?: AbortSignal; // SIGTERM
  deadMan?: DeadMan; // none: nothing armed (in-process tests)
}

export interface Transaction {
  operation: 'install' | 'uninstall';
  changes: FileChange[];
  restart: RestartPlan | undefined;
  removeDirs?: string[]; // removed when empty once committed
  payload?: PayloadStep; // installed before the files
  prune?: { base: string; keep: string[] }[]; // payload directories removed once committed, but those kept
  /**
   * Run once the provider's own files are written, before the kubelet's: a problem rolls back.
   * A new wrapper is tested at `candidate` (wrapper-file.ts) and only then renamed into place.
   */
  smokeTest?: (candidate: string | undefined) => Promise<string | undefined>;
  /** A payload directory (host path) present until the transaction ends: the dead-man timer runs recover from it. */
  rescuePayload?: string;
}

/** The provider's own files, written before its smoke test; the kubelet's come after it. */
function providersOwn(c: FileChange): boolean {
  return c.kind === 'binary' || c.kind === 'provider-config';
}

/** A wrapper to write (rather than a bare binary to copy, or a removal): tested as a candidate first. */
function isNewWrapper(c: FileChange): boolean {
  return c.kind === 'binary' && c.after?.bytes !== undefined;
}

class SmokeTestFailed extends Error {}

/** Thrown when SIGTERM arrives before anything changed. */
export function stoppedBeforeChanges(): ProviderError {
  return new ProviderError('install', 'stopped by SIGTERM before changing anything on the node');
}

/** The directories writing `changes` (and `payload`) creates (host paths), outermost first. */
export function dirsToCreate(fs: HostFs, changes: FileChange[], payload?: PayloadStep): string[] {
  const parents = [...changes.filter((c) => c.after !== undefined).map((c) => fs.parentOf(c.path)), ...(payload ? [posix.dirname(payload.dir)] : [])];
  return [...new Set(parents.flatMap((p) => fs.missingDirs(p)))];
}

/** Runs the transaction to its end: resolves when committed, throws when rolled back. */
export async function runTransaction(ctx: TxContext, tx: Transaction): Promise<void> {
  const { fs } = ctx;
  for (const dir of [...tx.changes.map((c) => fs.parentOf(c.path)), ...(tx.payload ? [posix.dirname(tx.payload.dir)] : [])]) fs.assertWritable(dir);
  const createdDirs = dirsToCreate(fs, tx.changes, tx.payload);
  const journal: Journal = { version: 1, operation: tx.operation, phase: 'applying', restart: tx.restart ?? null, changes: [], createdDirs, removeDirs: tx.removeDirs ?? [] };
  if (tx.payload) journal.payload = { dir: tx.payload.dir, replaced: tx.payload.replace };
  if (tx.prune?.length) journal.prune = tx.prune;
  if (tx.rescuePayload) journal.rescuePayload = tx.rescuePayload;
  for (const c of tx.changes) journal.changes.push({ path: c.path, kind: c.kind, before: await store(fs, c.path, c.before, c.beforeMode), after: c.after ? { sha256: c.after.sha256, mode: c.mode } : null });
  if (ctx.signal?.aborted) throw stoppedBeforeChanges();
  await writeJournal(fs, journal);
  const onTerm = () => ctx.log('warn', `SIGTERM: finishing the ${tx.operation} first (if this run is killed, the next one finishes it from the journal)`);
  ctx.signal?.addEventListener('abort', onTerm, { once: true });
  try {
    try {
      for (const dir of createdDirs) fs.mkdirs(dir);
      if (tx.payload) await installPayload(fs, tx.payload);
      const first = tx.smokeTest ? tx.changes.filter(providersOwn) : tx.changes;
      const wrapper = tx.smokeTest ? first.find(isNewWrapper) : undefined;
      for (const c of first) await (c === wrapper ? write(fs, { ...c, path: candidatePath(c.path) }) : write(fs, c));
      const problem = await tx.smokeTest?.(wrapper && candidatePath(wrapper.path));
      if (problem !== undefined) throw new SmokeTestFailed(problem);
      // The switch: the very file that passed becomes the kubelet's executable.
      if (wrapper) fs.renameWithin(fs.parentOf(wrapper.path), posix.basename(candidatePath(wrapper.path)), posix.basename(wrapper.path));
      for (const c of tx.changes) if (!first.includes(c)) await write(fs, c);
    } catch (error) {
      await putBackFiles(ctx, journal);
      endJournal(fs);
      if (error instanceof SmokeTestFailed) throw new ProviderError('install', `the installed provider failed its smoke test: ${error.message}. Nothing of the kubelet was changed and the installed files were rolled back`);
      throw new ProviderError('install', `writing the ${tx.operation} failed (${describeError(error)}); nothing was changed`);
    }
    if (journal.restart === null) return await commit(fs, journal);
    // Armed before the phase moves on: a run killed in between leaves an 'applying' journal,
    // which the timer's recover rolls back as the next run would (the kubelet never loaded it).
    await watched(ctx, journal, async () => {
      journal.phase = 'restarting';
      await writeJournal(fs, journal);
      await settle(ctx, journal);
    });
  } finally {
    ctx.signal?.removeEventListener('abort', onTerm);
  }
}

/**
 * Finishes a transaction an earlier run left unfinished. Returns quietly when it was completed,
 * or rolled back before the kubelet saw it; throws when it had to be rolled back for health.
 */
export async function recoverJournal(ctx: TxContext): Promise<void> {
  const journal = readJournal(ctx.fs);
  if (journal === undefined) return;
  if (journal.phase === 'committed') {
    await commit(ctx.fs, journal);
    return await ctx.deadMan?.disarm(); // the timer the killed run armed
  }
  if (journal.phase === 'applying') {
    ctx.log('warn', `an earlier ${journal.operation} stopped while writing files: putting the previous files back (the kubelet never ran with them)`);
    await putBackFiles(ctx, journal);
    return endJournal(ctx.fs);
  }
  ctx.log('warn', `an earlier ${journal.operation} stopped at "${journal.phase}": finishing it first`);
  await watched(ctx, journal, () => settle(ctx, journal));
  ctx.log('info', `finished the earlier ${journal.operation}: ${journal.restart?.unit} healthy`);
}

/** Restart (if not done), health check, then commit or roll back, advancing the journal's phase. */
async function settle(ctx: TxContext, journal: Journal): Promise<void> {
  const plan = journal.restart as RestartPlan;
  if (journal.phase === 'restarting') {
    try {
      await restartService(ctx.host, plan);
      journal.phase = 'checking';
      await writeJournal(ctx.fs, journal);
    } catch (error) {
      await startRollback(ctx, journal, describeError(error));
    }
  }
  if (journal.phase === 'checking') {
    if (await waitHealthy(ctx.host, ctx.health)) return await commit(ctx.fs, journal);
    await startRollback(ctx, journal, `${plan.unit} did not become healthy within ${ctx.health.timeoutMs / 1000}s`);
  }
  ctx.log('warn', `${journal.failure}; putting the previous files back`);
  await putBackFiles(ctx, journal);
  let back = false;
  try {
    await restartService(ctx.host, plan);
    back = await waitHealthy(ctx.host, ctx.health);
  } catch {
    back = false;
  }
  endJournal(ctx.fs);
  throw new ProviderError('install', `${journal.operation} rolled back: ${journal.failure}; the previous files are back and ${plan.unit} was restarted (${back ? 'healthy again' : `STILL NOT HEALTHY: check journalctl -u ${plan.unit}`})`);
}

async function startRollback(ctx: TxContext, journal: Journal, failure: string): Promise<void> {
  journal.phase = 'rolling-back';
  journal.failure = failure;
  await writeJournal(ctx.fs, journal);
}

async function write(fs: HostFs, c: FileChange): Promise<void> {
  if (c.after === undefined) fs.remove(c.path);
  else if (c.after.bytes !== undefined) await fs.write(c.path, c.after.bytes, c.mode);
  else fs.copyIn(c.after.source as string, c.path, c.mode, c.after);
}

/** Puts back every file that still holds what the transaction wrote; leaves others' changes alone. */
async function putBackFiles(ctx: TxContext, journal: Journal): Promise<void> {
  const { fs } = ctx;
  for (const c of [...journal.changes].reverse()) {
    const current = fs.digest(c.path);
    const mode = fs.stat(c.path)?.mode;
    if (current?.sha256 === c.before?.sha256 && (c.before === null || mode === c.before.mode)) continue;
    const ours = c.after === null ? current === undefined : current?.sha256 === c.after.sha256;
    if (ours) await putBack(fs, c.path, c.before);
    else ctx.log('warn', `${c.path} was changed by someone else meanwhile; left as it is`);
  }
  for (const c of journal.changes) if (c.kind === 'binary') fs.remove(candidatePath(c.path));
  if (journal.payload) rollbackPayload(fs, journal.payload.dir, journal.payload.replaced);
  for (const dir of [...journal.createdDirs].reverse()) fs.rmdirIfEmpty(dir);
}

/** The decision is made: record it, then clean up (a run killed meanwhile leaves that to the next). */
async function commit(fs: HostFs, journal: Journal): Promise<void> {
  if (journal.phase !== 'committed') {
    journal.phase = 'committed';
    await writeJournal(fs, journal);
  }
  pruneBackups(fs, readManifest(fs)?.files.map((f) => f.original) ?? []);
  for (const p of journal.prune ?? []) prunePayloads(fs, p.base, p.keep);
  for (const dir of [...journal.removeDirs].sort((a, b) => b.split('/').length - a.split('/').length)) fs.rmdirIfEmpty(dir);
  removeJournal(fs);
}

/** The transaction is over: drop the journal and the backups only it needed. */
function endJournal(fs: HostFs): void {
  removeJournal(fs);
  pruneBackups(fs, readManifest(fs)?.files.map((f) => f.original) ?? []);
}

/** Polls healthz until it answers twice in a row, or the timeout passes. */
export async function waitHealthy(host: HostSystem, options: HealthOptions): Promise<boolean> {
  const deadline = Date.now() + options.timeoutMs;
  let streak = 0;
  for (;;) {
    streak = (await host.healthy()) ? streak + 1 : 0;
    if (streak >= 2) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, options.intervalMs));
  }
}

async function restartService(host: HostSystem, plan: RestartPlan): Promise<void> {
  if (plan.daemonReload) await host.daemonReload();
  await host.restart(plan.unit);
}
