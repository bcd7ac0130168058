// The attacker's toolbox for the security suite: an unprivileged local user (uid 1000, no
// supplementary groups, run through setpriv) who owns directories that root's provider uses, plants
// symlinks and FIFOs there, and races the provider. Every helper is a real process or a real file;
// nothing is simulated.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EmulatorOptions, Emulators } from '../emulators/index.ts';
import { withCloud, type Cloud } from '../helpers/cloud.ts';
import { invocations, providerCommand, type RunResult } from '../helpers/run-provider.ts';

export const ATTACKER_UID = 1000;
export const SETPRIV = ['setpriv', `--reuid=${ATTACKER_UID}`, `--regid=${ATTACKER_UID}`, '--clear-groups'];
export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
/** The --timeout every attack runs with; the provider must be gone within TIMEOUT_S + 2 s. */
export const TIMEOUT_S = 4;
export const EXIT_BUDGET_MS = (TIMEOUT_S + 2) * 1000;

/** Runs a command as the attacker and waits for it. */
export function asAttacker(argv: readonly string[], cwd?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(SETPRIV[0]!, [...SETPRIV.slice(1), ...argv], { encoding: 'utf8', ...(cwd ? { cwd } : {}) });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs a command as the attacker and asserts it worked (setting up an attack must not fail silently). */
export function attacker(argv: readonly string[]): string {
  const r = asAttacker(argv);
  assert.equal(r.status, 0, `attacker command failed: ${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/**
 * A node under attack: withCloud's emulators and temp directory, the directory traversable by the
 * attacker, and, whatever the test did, a final check that no registry password the cloud issued
 * can be read by the attacker from any file under it.
 */
export function withAttackedNode(fn: (c: Cloud) => Promise<void>, options: EmulatorOptions = {}): Promise<void> {
  return withCloud(async (c) => {
    openToAttacker(c.dir);
    await fn(c);
    assertNoTokenReadableByAttacker(c.e, c.dir);
  }, options);
}

/** A directory owned by the attacker (as if it were their home or a directory handed to them). */
export function attackerDir(path: string, mode = 0o755): string {
  mkdirSync(path, { recursive: true });
  chownSync(path, ATTACKER_UID, ATTACKER_UID);
  chmodSync(path, mode);
  return path;
}

/** A root-owned world-writable sticky directory, like /tmp. */
export function stickyDir(path: string): string {
  mkdirSync(path, { recursive: true });
  chmodSync(path, 0o1777);
  return path;
}

/** Makes a test's root-owned base directory traversable by the attacker (it stays root's). */
export function openToAttacker(dir: string): void {
  chmodSync(dir, 0o755);
}

/** The attacker's attempt to read a file: its content, or undefined when the kernel says no. */
export function readAsAttacker(path: string): string | undefined {
  const r = asAttacker(['cat', path]);
  return r.status === 0 ? r.stdout : undefined;
}

/** Every password the emulated registry ever issued. */
export function issuedPasswords(e: Emulators): string[] {
  return e.state.issuedTokens().map((t) => t.password);
}

/** Asserts that no issued password can be read by the attacker from any file under `dir`. */
export function assertNoTokenReadableByAttacker(e: Emulators, dir: string): void {
  const passwords = issuedPasswords(e);
  for (const entry of listTree(dir)) {
    if (entry.type !== 'file') continue;
    const text = readAsAttacker(entry.path);
    if (text === undefined) continue;
    for (const p of passwords) assert.ok(!text.includes(p), `the attacker can read a live registry password in ${entry.path} (owner uid ${entry.uid}, mode ${entry.mode.toString(8)})`);
  }
}

export interface TreeEntry {
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'fifo' | 'other';
  uid: number;
  mode: number;
  size: number;
  mtimeMs: number;
  target?: string;
}

/** Everything under `dir` (not following symlinks), as root sees it. */
export function listTree(dir: string): TreeEntry[] {
  const out: TreeEntry[] = [];
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return out;
  }
  for (const name of names) {
    const path = join(dir, name);
    let st;
    try {
      st = lstatSync(path);
    } catch {
      continue;
    }
    const type = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : st.isFIFO() ? 'fifo' : 'other';
    const entry: TreeEntry = { path, type, uid: st.uid, mode: st.mode & 0o7777, size: st.size, mtimeMs: st.mtimeMs };
    if (type === 'symlink') entry.target = readlinkSync(path);
    out.push(entry);
    if (type === 'dir') out.push(...listTree(path));
  }
  return out;
}

/** Asserts the provider (root) left no trace under the attacker's `dir`: same entries, same owners, same sizes and times. */
export function assertUntouched(before: readonly TreeEntry[], dir: string, what: string): void {
  const after = listTree(dir);
  const rootOwned = after.filter((e) => e.uid !== ATTACKER_UID);
  assert.deepEqual(rootOwned.map((e) => e.path), [], `${what}: the provider created entries in a directory it must not write`);
  assert.deepEqual(after, before, `${what}: the provider changed a directory it must not write`);
}

/** A file's bytes, for before/after comparisons of files outside the cache. */
export function snapshot(path: string): { content: string; mode: number; uid: number } {
  const st = lstatSync(path);
  return { content: readFileSync(path, 'latin1'), mode: st.mode & 0o7777, uid: st.uid };
}

export interface SpawnOptions {
  args: string[];
  stdin?: string;
  /** Leave stdin open after writing (a kubelet that never closes it). */
  keepStdinOpen?: boolean;
  env?: Record<string, string>;
}

/**
 * Runs the built provider with a hard stop at EXIT_BUDGET_MS (then SIGKILL, and `signal` is set):
 * a run that needs the kill has blocked past its deadline.
 */
export function runWithinBudget(options: SpawnOptions): Promise<RunResult> {
  const { file, prefix } = providerCommand();
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(file, [...prefix, ...options.args], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...(options.env ?? {}) }, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (c: Buffer) => out.push(c));
    child.stderr!.on('data', (c: Buffer) => err.push(c));
    child.stdin!.on('error', () => undefined);
    const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_BUDGET_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result: RunResult = { code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), ms: performance.now() - started, args: options.args };
      invocations.push(result);
      resolve(result);
    });
    if (options.stdin !== undefined) child.stdin!.write(options.stdin);
    if (!options.keepStdinOpen) child.stdin!.end();
  });
}

/** The provider exited by itself (it was not killed at the budget). */
export function assertExitedInTime(r: RunResult, what: string): void {
  assert.equal(r.signal, null, `${what}: still running ${EXIT_BUDGET_MS / 1000}s after start with --timeout ${TIMEOUT_S}s (killed); stderr=${r.stderr}`);
}

/** Starts a long-running attacker process (e.g. a swap loop); stop() kills it and waits. */
export function startAttackerProcess(argv: readonly string[]): { stop(): Promise<string> } {
  const child = spawn(SETPRIV[0]!, [...SETPRIV.slice(1), ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.on('data', (c: Buffer) => out.push(c));
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  return {
    async stop() {
      child.kill('SIGTERM');
      await closed;
      return Buffer.concat(out).toString('utf8');
    },
  };
}
