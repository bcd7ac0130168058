// `install`: puts the provider on this node (run by the DaemonSet with the host root mounted).
import type { Argv } from 'yargs';
import { durationMs, exitCodeOf, hostOptions, runContext } from '../../install/cli.ts';
import { runInstall } from '../../install/install.ts';
import { LAYOUT_NAMES, type LayoutName } from '../../install/layouts/types.ts';
import { NODE_PROVIDER_CONFIG } from '../../install/paths.ts';
import { sourcePayloadDir } from '../../install/payload-source.ts';
import type { CliCommand } from './types.ts';

export const installCommand: CliCommand = {
  register(cli: Argv, io) {
    return cli.command(
      'install',
      'Install the provider on this node: its payload directory behind a /bin/sh wrapper (smoke-tested as the kubelet will run it before anything of the kubelet changes), configs, and (with --configure-kubelet) the kubelet flags; restarts the kubelet only when needed and rolls back if it does not come back healthy',
      (y) =>
        hostOptions(y)
          .option('layout', { type: 'string', choices: LAYOUT_NAMES, describe: 'How the node runs the kubelet [default: detected]' })
          .option('bin-dir', { type: 'string', describe: 'Kubelet --image-credential-provider-bin-dir [default: the kubelet\'s, or per layout]' })
          .option('kubelet-config-file', { type: 'string', describe: 'Kubelet --image-credential-provider-config file or directory [default: the kubelet\'s, or per layout]' })
          .option('kubelet-flags-file', { type: 'string', describe: 'Environment file where the kubelet flags are added [default: per layout]' })
          .option('kubelet-flags-var', { type: 'string', describe: 'Variable of --kubelet-flags-file to add them to [default: KUBELET_EXTRA_ARGS, ACK: KUBELET_CUSTOMIZED_ARGS]' })
          .option('kubelet-unit', { type: 'string', describe: 'Service to restart [default: kubelet.service, or the k3s/rke2 service]' })
          .option('kubelet-version', { type: 'string', describe: 'Kubelet version, e.g. 1.30 [default: asked from the kubelet]' })
          .option('configure-kubelet', { type: 'boolean', default: false, describe: 'Add the missing kubelet flags where this layout takes them' })
          .option('provider-config', { type: 'string', describe: 'Provider config to install (YAML or JSON, e.g. the mounted ConfigMap)' })
          .option('node-provider-config', { type: 'string', default: NODE_PROVIDER_CONFIG, describe: 'Where the provider config goes on the node' })
          .option('payload', { type: 'string', describe: "Payload directory to install (the binary, its loader and libraries, manifest.json) [default: this executable's directory when it is the single-file binary]" })
          .option('restart-spread', { type: 'string', default: '5m', describe: 'On a first install that restarts the kubelet, wait a delay derived from the node name within this window first, so a cluster-wide rollout does not restart every kubelet at once (0s: no wait)' })
          .option('node-name', { type: 'string', describe: 'Node name for the restart spread [default: $NODE_NAME; none: no wait]' }),
      async (args) => {
        io.setExitCode(
          await exitCodeOf(async (signal) => {
            const ctx = runContext(args, io.writeStdout, signal);
            const opt = (name: string) => (typeof args[name] === 'string' ? (args[name] as string) : undefined);
            const nodeName = opt('node-name') ?? process.env['NODE_NAME'];
            if (nodeName) ctx.restartSpread = { nodeName, windowMs: durationMs('restart-spread', args['restart-spread']), window: args['restart-spread'] };
            await runInstall(ctx, {
              payload: sourcePayloadDir(opt('payload')),
              nodeProviderConfig: args['node-provider-config'],
              configureKubelet: args['configure-kubelet'],
              ...defined({
                layout: opt('layout') as LayoutName | undefined,
                binDir: opt('bin-dir'),
                kubeletConfigFile: opt('kubelet-config-file'),
                kubeletFlagsFile: opt('kubelet-flags-file'),
                kubeletFlagsVar: opt('kubelet-flags-var'),
                kubeletUnit: opt('kubelet-unit'),
                kubeletVersion: opt('kubelet-version'),
                providerConfig: opt('provider-config'),
              }),
            });
          }),
        );
      },
    );
  },
};

function defined<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
