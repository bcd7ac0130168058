// Every subcommand of the full CLI. Kubelet mode (no subcommand) is registered in yargs-cli.ts.
import { doctorCommand } from './doctor.ts';
import { dockerCredentialHelperCommand } from './docker-credential-helper.ts';
import { getCredentialsCommand } from './get-credentials.ts';
import { metricsCommand } from './metrics.ts';
import { prewarmCommand } from './prewarm.ts';
import { installCommand } from './install.ts';
import { syncConfigCommand } from './sync-config.ts';
import { uninstallCommand } from './uninstall.ts';
import type { CliCommand } from './types.ts';

export const COMMANDS: readonly CliCommand[] = [getCredentialsCommand, dockerCredentialHelperCommand, doctorCommand, metricsCommand, installCommand, uninstallCommand, syncConfigCommand, prewarmCommand];
