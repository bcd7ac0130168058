// `uninstall`: takes out of the node exactly what `install` added.
import type { Argv } from 'yargs';
import { exitCodeOf, hostOptions, runContext } from '../../install/cli.ts';
import { runUninstall } from '../../install/uninstall.ts';
import type { CliCommand } from './types.ts';

export const uninstallCommand: CliCommand = {
  register(cli: Argv, io) {
    return cli.command(
      'uninstall',
      'Undo install on this node: take out the flags, config entry and files it added (files it changed and nobody else did get their original back), restart the kubelet if needed',
      (y) => hostOptions(y),
      async (args) => {
        io.setExitCode(await exitCodeOf((signal) => runUninstall(runContext(args, io.writeStdout, signal))));
      },
    );
  },
};
