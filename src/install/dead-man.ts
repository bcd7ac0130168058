// The dead-man switch. A run SIGKILLed (OOM, runtime kill, node pressure) during its health wait
// leaves its journal for the next run; but the next run is a pod, and a kubelet that did not come
// back with our change never starts it. So before the transaction's first kubelet restart the
// installer arms a transient systemd timer on the host (systemd-run through nsenter into PID 1):
// after the installer's worst case it runs `recover` from a payload directory that exists during
// the whole transaction, through the payload's own loader (nothing of the host but systemd).
// `recover` takes the installer lock, so a timer that fires while the installer is alive waits
// for it and then finds nothing. The transaction's end disarms it (`systemctl stop <unit>.timer`).
// Arming is best effort: a host without systemd-run gets a warning, the install goes on.
import { execFile } from 'node:child_process';
import { posix } from 'node:path';
import { describeError } from '../errors.ts';
import { PAYLOAD_MANIFEST } from '../payload/layout.ts';
import { parseManifest } from '../payload/manifest.ts';
import { loaderCommand } from '../payload/wrapper.ts';
import type { HostFs } from './host-fs.ts';
import { JOURNAL_FILE, PROVIDER_NAME } from './paths.ts';
import type { HealthOptions } from './transaction.ts';

export const RECOVER_UNIT = `${PROVIDER_NAME}-recover`;

export interface DeadMan {
  /** Arms the timer to run `recover` from `payloadDir` (host path); warns, never throws. */
  arm(fs: HostFs, payloadDir: string | undefined, operation: string): Promise<void>;
  /** Stops the timer if it is armed; warns, never throws. */
  disarm(): Promise<void>;
}

/** Runs a host command (`nsenter --target 1 … -- args`); rejects with its first stderr line. */
export type HostCommand = (args: string[]) => Promise<void>;

const HEALTHZ_REQUEST_MS = 2_000; // host-system.ts: one healthz request may take this long
const RESTARTS_AND_MARGIN_MS = 60_000; // the two restarts (usually seconds each) and a margin

/**
 * When the timer fires: after the installer's worst case from its restart on (a health wait, the
 * rollback's restart, a second health wait) and a margin. Firing early is harmless (recover waits
 * for a live installer's lock); late only delays the repair.
 */
export function recoverDelaySeconds(health: HealthOptions): number {
  const healthWait = health.timeoutMs + health.intervalMs + HEALTHZ_REQUEST_MS;
  return Math.ceil((2 * healthWait + RESTARTS_AND_MARGIN_MS) / 1000);
}

/** The systemd-run arguments that arm the timer, or why it cannot be armed from `payloadDir`. */
export function armCommand(fs: HostFs, payloadDir: string | undefined, health: HealthOptions, healthzUrl: string): string[] | { reason: string } {
  if (payloadDir === undefined) return { reason: 'no payload directory to run it from (a bare-binary install)' };
  let command: string[];
  try {
    const manifest = parseManifest(fs.readText(posix.join(payloadDir, PAYLOAD_MANIFEST)) ?? '');
    command = loaderCommand(payloadDir, manifest.loader);
  } catch (error) {
    return { reason: `${payloadDir} is not a payload directory it can run (${describeError(error)})` };
  }
  for (const file of [command[0] as string, command[command.length - 1] as string]) {
    if (!fs.stat(file)?.isFile) return { reason: `${file} is missing` };
  }
  const recover = ['recover', '--host-root', '/', '--health-timeout', `${health.timeoutMs}ms`, '--health-interval', `${health.intervalMs}ms`, '--healthz-url', healthzUrl];
  return [
    'systemd-run',
    `--unit=${RECOVER_UNIT}`,
    `--on-active=${recoverDelaySeconds(health)}s`,
    '--timer-property=AccuracySec=1s',
    `--description=${PROVIDER_NAME}: finish or roll back an installer run killed during its kubelet restart (${JOURNAL_FILE})`,
    '--',
    ...command,
    ...recover,
  ];
}

export interface DeadManOptions {
  health: HealthOptions;
  healthzUrl: string;
  log: (level: 'info' | 'warn', line: string) => void;
  host: HostCommand;
  /** false for `recover` itself: it runs as the timer's service (that unit name is taken) and only disarms. */
  arms: boolean;
}

export function hostDeadMan(options: DeadManOptions): DeadMan {
  const { log, host } = options;
  return {
    async arm(fs, payloadDir, operation) {
      if (!options.arms) return;
      const unprotected = `a SIGKILL during the health wait would leave the ${operation} for the next installer run`;
      const command = armCommand(fs, payloadDir, options.health, options.healthzUrl);
      if (!Array.isArray(command)) return log('warn', `no dead-man timer: ${command.reason}; ${unprotected}`);
      // A timer left by an earlier run (elapsed, or its recover failed) would block the name.
      await host(['systemctl', 'stop', `${RECOVER_UNIT}.timer`]).catch(() => undefined);
      await host(['systemctl', 'reset-failed', `${RECOVER_UNIT}.service`]).catch(() => undefined);
      try {
        await host(command);
        log('info', `armed ${RECOVER_UNIT}.timer: if this run dies, in ${recoverDelaySeconds(options.health)}s the host finishes or rolls back the ${operation}`);
      } catch (error) {
        log('warn', `no dead-man timer: ${describeError(error)}; ${unprotected}`);
      }
    },
    async disarm() {
      try {
        await host(['systemctl', 'stop', `${RECOVER_UNIT}.timer`]);
      } catch (error) {
        if (!/not loaded/i.test(describeError(error))) log('warn', `could not stop ${RECOVER_UNIT}.timer (${describeError(error)}); when it fires it finds nothing to do`);
      }
    },
  };
}

const NSENTER = ['--target', '1', '--mount', '--uts', '--ipc', '--net', '--pid', '--']; // as host-system.ts

/** `nsenter … -- args` as the installer runs host commands (the pod has hostPID). */
export function nsenterCommand(timeoutMs = 30_000): HostCommand {
  return (args) =>
    new Promise((resolve, reject) => {
      execFile('nsenter', [...NSENTER, ...args], { timeout: timeoutMs, encoding: 'utf8' }, (error, _stdout, stderr) => {
        if (error) reject(new Error(`${args.slice(0, 3).join(' ')} failed: ${(stderr || error.message).trim().split('\n')[0]}`));
        else resolve();
      });
    });
}

/** Runs the transaction's restart-and-health part with the timer armed; disarms once the journal is gone. */
export async function watched(ctx: { fs: HostFs; deadMan?: DeadMan }, journal: { operation: string; rescuePayload?: string }, body: () => Promise<void>): Promise<void> {
  await ctx.deadMan?.arm(ctx.fs, journal.rescuePayload, journal.operation);
  try {
    await body();
  } finally {
    // Still a journal (the run failed to write it away): the timer stays, to finish it.
    if (!ctx.fs.exists(JOURNAL_FILE)) await ctx.deadMan?.disarm();
  }
}
