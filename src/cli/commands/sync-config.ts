// `sync-config`: copies the provider config from its source to the node whenever it changes,
// until SIGTERM (the DaemonSet's long-running container).
import type { Argv } from 'yargs';
import { durationMs, exitCodeOf, installerLog } from '../../install/cli.ts';
import { HostFs } from '../../install/host-fs.ts';
import { NODE_PROVIDER_CONFIG } from '../../install/paths.ts';
import { runSyncConfig } from '../../install/sync-config.ts';
import type { CliCommand } from './types.ts';

export const syncConfigCommand: CliCommand = {
  register(cli: Argv, io) {
    return cli.command(
      'sync-config',
      "Keep the node's provider config in step with --provider-config (validated; invalid content is logged and not written) until SIGTERM",
      (y) =>
        y
          .option('host-root', { type: 'string', default: '/host', describe: "Where the node's root filesystem is mounted" })
          .option('provider-config', { type: 'string', demandOption: true, describe: 'Source config (YAML or JSON), e.g. the mounted ConfigMap' })
          .option('node-provider-config', { type: 'string', default: NODE_PROVIDER_CONFIG, describe: 'Where the provider config goes on the node' })
          .option('interval', { type: 'string', default: '5s', describe: 'How often the source is checked' }),
      async (args) => {
        io.setExitCode(
          await exitCodeOf((signal) =>
            runSyncConfig({
              fs: new HostFs(args['host-root']),
              source: args['provider-config'],
              nodePath: args['node-provider-config'],
              intervalMs: durationMs('interval', args.interval),
              signal,
              log: installerLog,
            }),
          ),
        );
      },
    );
  },
};
