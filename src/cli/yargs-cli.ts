// The full command line (help, subcommands, usage errors), built with yargs. Loaded only when
// the fast kubelet-mode parser cannot handle the arguments.
import yargs from 'yargs';
import { EXIT_OK, EXIT_USAGE, ProviderError, describeError } from '../errors.ts';
import { createLogger, oneLine } from '../log/logger.ts';
import { PROGRAM_NAME, VERSION } from '../version.ts';
import { COMMANDS } from './commands/index.ts';
import { runKubeletMode } from './kubelet-mode.ts';
import { GLOBAL_FLAGS, toFlagValues } from './options.ts';
import { readStdin } from './stdin.ts';

export async function runCli(argv: string[], writeStdout: (text: string) => Promise<void>): Promise<number> {
  let exitCode = EXIT_OK;
  const cli = yargs(argv)
    .scriptName(PROGRAM_NAME)
    .usage(
      `$0 [flags] < request.json\n\nKubelet image credential provider for Alibaba Cloud Container Registry (ACR).\n` +
        `Without a command it reads a CredentialProviderRequest from stdin and writes a CredentialProviderResponse to stdout.`,
    )
    .options(GLOBAL_FLAGS)
    .command('$0', false, {}, async (args) => {
      exitCode = await runKubeletMode(toFlagValues(args), { stdin: readStdin, stdout: writeStdout });
    });
  const io = { writeStdout, setExitCode: (code: number) => (exitCode = code) };
  for (const command of COMMANDS) command.register(cli, io);
  cli
    .example('echo \'{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"registry.cn-hangzhou.aliyuncs.com/ns/app"}\' | $0', 'what the kubelet does')
    .example('$0 get-credentials my-registry.cn-shanghai.cr.aliyuncs.com/team/app:v1', 'the same from a shell')
    .version(VERSION)
    .help()
    .strict()
    .wrap(Math.min(110, process.stdout.columns ?? 110))
    .exitProcess(false)
    .fail((message, error) => {
      throw new ProviderError('input', `${oneLine(message ?? describeError(error))} (see --help)`);
    });
  try {
    await cli.parseAsync();
  } catch (error) {
    createLogger('error').error(describeError(error));
    return EXIT_USAGE;
  }
  return exitCode;
}
