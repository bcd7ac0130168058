// `prewarm`: the DaemonSet's pre-warmer (src/prewarm), until SIGTERM.
import type { Argv } from 'yargs';
import { LOG_FORMATS, LOG_LEVELS, createLogger } from '../../log/logger.ts';
import { systemClock } from '../../resilience/clock.ts';
import { toFlagValues } from '../options.ts';
import type { CliCommand } from './types.ts';

export const prewarmCommand: CliCommand = {
  register(cli: Argv, io) {
    return cli.command(
      'prewarm',
      "Keep this node's registry tokens fresh in the cache ahead of the kubelet (the DaemonSet's long-running container), until SIGTERM",
      (y) => y.option('node-name', { type: 'string', describe: 'Seeds the per-node jitter [default: $NODE_NAME, else the host name]' }),
      async (args) => {
        const { runPrewarmCommand } = await import('../../prewarm/command.ts');
        const flags = toFlagValues(args);
        // A daemon's log is read afterwards: info by default (one line per refresh), on stderr.
        const logger = createLogger(pick(flags.logLevel, LOG_LEVELS) ?? 'info', undefined, pick(flags.logFormat, LOG_FORMATS) ?? 'text');
        const stop = new AbortController();
        const onSignal = (): void => stop.abort();
        process.once('SIGTERM', onSignal);
        process.once('SIGINT', onSignal);
        try {
          const nodeName = args['node-name'] ?? process.env.NODE_NAME;
          await runPrewarmCommand({ flags, ...(nodeName ? { nodeName } : {}), clock: systemClock, signal: stop.signal, logger, env: process.env });
          logger.info('stopped');
        } finally {
          process.off('SIGTERM', onSignal);
          process.off('SIGINT', onSignal);
        }
        io.setExitCode(0);
      },
    );
  },
};

function pick<T extends string>(value: string | undefined, choices: readonly T[]): T | undefined {
  return choices.find((c) => c === value);
}


