// `recover`: finish or roll back an installer run that died during its kubelet restart (run on
// the host by the installer's dead-man timer, or by hand).
import type { Argv } from 'yargs';
import { exitCodeOf, hostOptions, runContext } from '../../install/cli.ts';
import { runRecover } from '../../install/recover.ts';
import type { CliCommand } from './types.ts';

export const recoverCommand: CliCommand = {
  register(cli: Argv, io) {
    return cli.command(
      'recover',
      "Finish an install or uninstall whose installer died (the journal it left): restart the kubelet, check its health, keep the change or roll it back. Waits for a running installer; exits 0 when there is nothing to do. The installer arms a host timer that runs this with --host-root / if it is killed during its kubelet restart",
      (y) => hostOptions(y),
      async (args) => {
        io.setExitCode(await exitCodeOf((signal) => runRecover(runContext(args, io.writeStdout, signal, false))));
      },
    );
  },
};
