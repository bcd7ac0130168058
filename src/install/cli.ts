// What the install, uninstall and sync-config subcommands share: their common flags, turning
// parsed flags into a run context, and turning failures into one line and an exit code.
import type { Argv } from 'yargs';
import { describeError } from '../errors.ts';
import { parseGoDuration } from '../kubelet/go-duration.ts';
import { createLogger } from '../log/logger.ts';
import { InstallError } from './errors.ts';
import { HostFs } from './host-fs.ts';
import { hostSystemFromSpec } from './host-system.ts';
import type { RunContext } from './install.ts';
import { DEFAULT_HEALTHZ_URL } from './paths.ts';

export function hostOptions<T>(y: Argv<T>) {
  return y
    .option('host-root', { type: 'string', default: '/host', describe: "Where the node's root filesystem is mounted" })
    .option('dry-run', { type: 'boolean', default: false, describe: 'Print the planned changes as unified diffs and change nothing' })
    .option('health-timeout', { type: 'string', default: '60s', describe: 'How long to wait for the kubelet to become healthy after a restart before rolling back' })
    .option('healthz-url', { type: 'string', default: DEFAULT_HEALTHZ_URL, describe: "The kubelet's healthz endpoint (needs hostNetwork)" })
    .option('host-system', { type: 'string', hidden: true, describe: 'Tests only: fake:<state-file> scripts systemctl, kubelet --version and healthz' })
    .option('health-interval', { type: 'string', default: '1s', hidden: true, describe: 'Tests only: healthz poll interval' });
}

export function durationMs(flag: string, value: string): number {
  try {
    const ms = parseGoDuration(value);
    if (ms < 0) throw new Error('negative');
    return ms;
  } catch {
    throw new InstallError(`--${flag} must be a duration such as 60s, got ${JSON.stringify(value)}`, { usage: true });
  }
}

export function runContext(args: Record<string, unknown>, writeStdout: (text: string) => Promise<void>): RunContext {
  const logger = createLogger('info');
  return {
    fs: new HostFs(String(args['host-root'])),
    host: hostSystemFromSpec(args['host-system'] as string | undefined, String(args['healthz-url'])),
    health: { timeoutMs: durationMs('health-timeout', String(args['health-timeout'])), intervalMs: durationMs('health-interval', String(args['health-interval'])) },
    dryRun: args['dry-run'] === true,
    log: (level, line) => logger[level](line),
    out: writeStdout,
  };
}

/** Runs a command body; failures become one line on stderr and exit 2 (usage) or 1. */
export async function exitCodeOf(body: () => Promise<void>): Promise<number> {
  try {
    await body();
    return 0;
  } catch (error) {
    createLogger('error').error(describeError(error));
    return error instanceof InstallError && error.usage ? 2 : 1;
  }
}
