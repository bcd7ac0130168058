// `uninstall`: restores every host file `install` touched, byte for byte.
import type { Argv } from 'yargs';
import { exitCodeOf, hostOptions, runContext } from '../../install/cli.ts';
import { runUninstall } from '../../install/uninstall.ts';
import type { CliCommand } from './types.ts';

export const uninstallCommand: CliCommand = {
  register(cli: Argv, io) {
    return cli.command(
      'uninstall',
      'Undo install on this node: restore every file it changed, remove the ones it created, restart the kubelet if needed',
      (y) => hostOptions(y),
      async (args) => {
        io.setExitCode(await exitCodeOf(() => runUninstall(runContext(args, io.writeStdout))));
      },
    );
  },
};
