// What the install, uninstall, recover and sync-config subcommands share: their common flags, turning
// parsed flags into a run context, logging, SIGTERM, and turning failures into one line and an
// exit code.
import type { Argv } from 'yargs';
import { describeError, EXIT_OK, exitCodeFor, ProviderError } from '../errors.ts';
import { parseGoDuration } from '../kubelet/go-duration.ts';
import { formatText } from '../log/logger.ts';
import { hostDeadMan, nsenterCommand } from './dead-man.ts';
import { HostFs } from './host-fs.ts';
import { realHostSystem } from './host-system.ts';
import type { RunContext } from './install.ts';
import { DEFAULT_HEALTHZ_URL } from './paths.ts';

export function hostOptions<T>(y: Argv<T>) {
  return y
    .option('host-root', { type: 'string', default: '/host', describe: "Where the node's root filesystem is mounted" })
    .option('dry-run', { type: 'boolean', default: false, describe: 'Print the planned changes as unified diffs and change nothing' })
    .option('health-timeout', { type: 'string', default: '60s', describe: 'How long to wait for the kubelet to become healthy after a restart before rolling back' })
    .option('health-interval', { type: 'string', default: '1s', describe: "How often the kubelet's healthz is polled during that wait" })
    .option('healthz-url', { type: 'string', default: DEFAULT_HEALTHZ_URL, describe: "The kubelet's healthz endpoint (needs hostNetwork)" });
}

export function durationMs(flag: string, value: string): number {
  try {
    const ms = parseGoDuration(value);
    if (ms < 0) throw new Error('negative');
    return ms;
  } catch {
    throw new ProviderError('config', `--${flag} must be a duration such as 60s, got ${JSON.stringify(value)}`);
  }
}

/** Every line is written: the provider's logger says a repeated line once, which hides events here. */
export function installerLog(level: 'error' | 'warn' | 'info', line: string): void {
  process.stderr.write(`${formatText(level, line)}\n`);
}

/** `armsDeadMan`: false for `recover`, which runs as the dead-man timer's service and only disarms it. */
export function runContext(args: Record<string, unknown>, writeStdout: (text: string) => Promise<void>, signal: AbortSignal, armsDeadMan = true): RunContext {
  const health = { timeoutMs: durationMs('health-timeout', String(args['health-timeout'])), intervalMs: durationMs('health-interval', String(args['health-interval'])) };
  const healthzUrl = String(args['healthz-url']);
  return {
    fs: new HostFs(String(args['host-root'])),
    host: realHostSystem(healthzUrl),
    health,
    dryRun: args['dry-run'] === true,
    log: installerLog,
    out: writeStdout,
    signal,
    deadMan: hostDeadMan({ health, healthzUrl, log: installerLog, host: nsenterCommand(), arms: armsDeadMan }),
  };
}

/**
 * Runs a command body with SIGTERM/SIGINT turned into an abort signal (the body decides when it
 * may stop); a failure becomes one line on stderr and its exit code (errors.ts).
 */
export async function exitCodeOf(body: (signal: AbortSignal) => Promise<void>): Promise<number> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  try {
    await body(controller.signal);
    return EXIT_OK;
  } catch (error) {
    installerLog('error', describeError(error));
    return exitCodeFor(error);
  } finally {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
  }
}
