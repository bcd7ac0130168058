// `metrics [--textfile PATH]`: the counters kept in the cache directory, in the Prometheus text
// format: on stdout, or written atomically to PATH for node-exporter's textfile collector.
import type { Argv } from 'yargs';
import { toFlagValues } from '../options.ts';
import type { CliCommand } from './types.ts';

export const metricsCommand: CliCommand = {
  register(cli: Argv, io) {
    return cli.command(
      'metrics',
      "Print the provider's counters (invocations, cache hits/misses, cloud calls, errors, throttling) in the Prometheus text format",
      (y) =>
        y.option('textfile', {
          type: 'string',
          describe: 'Write them atomically to this file instead (e.g. /var/lib/node_exporter/textfile/aliyun_acr_credential_provider.prom)',
        }),
      async (args) => {
        const { runMetrics } = await import('../../metrics/command.ts');
        io.setExitCode(await runMetrics(toFlagValues(args), { textfile: args.textfile }, io.writeStdout));
      },
    );
  },
};
