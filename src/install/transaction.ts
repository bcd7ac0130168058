// Applies a list of file changes, restarts the kubelet once if it must, watches its health and
// puts every file back (then restarts again) when it does not come back. Writes are atomic, so
// a file is always either the old or the new version, never half of one.
import type { FileChange } from './changes.ts';
import { InstallError } from './errors.ts';
import type { HostFs } from './host-fs.ts';
import type { HostSystem } from './host-system.ts';

export interface RestartPlan {
  unit: string;
  daemonReload: boolean;
}

export interface HealthOptions {
  timeoutMs: number;
  intervalMs: number;
}

export interface Applied {
  createdDirs: string[];
  rollback(): Promise<void>;
}

/** Writes the changes in order; on a failure undoes the ones already written and rethrows. */
export async function applyChanges(fs: HostFs, changes: FileChange[]): Promise<Applied> {
  const done: FileChange[] = [];
  const createdDirs: string[] = [];
  const rollback = async () => {
    for (const change of [...done].reverse()) await restore(fs, change);
    for (const dir of [...createdDirs].reverse()) fs.rmdirIfEmpty(dir);
  };
  try {
    for (const change of changes) {
      if (change.after === undefined) fs.remove(change.path);
      else {
        createdDirs.push(...fs.mkdirs(fs.parentOf(change.path)));
        await fs.write(change.path, change.after, change.mode);
      }
      done.push(change);
    }
  } catch (error) {
    await rollback();
    throw new InstallError(`writing ${changes[done.length]?.path ?? 'a file'} failed (${(error as Error).message.split('\n')[0]}); nothing was changed`);
  }
  return { createdDirs, rollback };
}

async function restore(fs: HostFs, change: FileChange): Promise<void> {
  if (change.before === undefined) fs.remove(change.path);
  else await fs.write(change.path, change.before, change.beforeMode ?? change.mode);
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

export async function restartService(host: HostSystem, plan: RestartPlan): Promise<void> {
  if (plan.daemonReload) await host.daemonReload();
  await host.restart(plan.unit);
}

/**
 * Restarts, watches health, and on failure rolls back, restarts again and throws. `what` names
 * the operation for the message ("install", "uninstall").
 */
export async function restartOrRollBack(host: HostSystem, plan: RestartPlan, applied: Applied, health: HealthOptions, what: string, log: (line: string) => void): Promise<void> {
  let failure: string | undefined;
  try {
    await restartService(host, plan);
    if (!(await waitHealthy(host, health))) failure = `${plan.unit} did not become healthy within ${Math.round(health.timeoutMs / 1000)}s`;
  } catch (error) {
    failure = (error as Error).message.split('\n')[0];
  }
  if (failure === undefined) return;
  log(`${failure}; restoring the previous files`);
  await applied.rollback();
  let back = false;
  try {
    await restartService(host, plan);
    back = await waitHealthy(host, health);
  } catch {
    back = false;
  }
  throw new InstallError(`${what} rolled back: ${failure}; the previous files are restored and ${plan.unit} was restarted (${back ? 'healthy again' : 'STILL NOT HEALTHY: check journalctl -u ' + plan.unit})`);
}
