// A subcommand registers itself on the yargs instance; src/cli/commands/index.ts lists them.
import type { Argv } from 'yargs';

export interface CommandIo {
  writeStdout: (text: string) => Promise<void>;
  setExitCode: (code: number) => void;
}

export interface CliCommand {
  register(cli: Argv, io: CommandIo): Argv;
}
