// Every subcommand of the full CLI. Kubelet mode (no subcommand) is registered in yargs-cli.ts.
import { getCredentialsCommand } from './get-credentials.ts';
import type { CliCommand } from './types.ts';

export const COMMANDS: readonly CliCommand[] = [getCredentialsCommand];
