// The full command line (help, subcommands, usage errors), built with yargs. Loaded only when
// the fast kubelet-mode parser cannot handle the arguments.
import yargs from 'yargs';
import { ProviderError, describeError } from '../errors.ts';
import { createLogger, oneLine } from '../log/logger.ts';
import { PROGRAM_NAME, VERSION } from '../version.ts';
import { runGetCredentials } from './get-credentials.ts';
import { EXIT_OK, EXIT_USAGE } from './invocation.ts';
import { runKubeletMode } from './kubelet-mode.ts';
import { GLOBAL_FLAGS, toFlagValues } from './options.ts';

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
      exitCode = await runKubeletMode(toFlagValues(args), writeStdout);
    })
    .command(
      'get-credentials <image>',
      'Run the kubelet path for IMAGE and print the response (password redacted)',
      (y) =>
        y
          .positional('image', { type: 'string', demandOption: true, describe: 'Image reference, e.g. registry.cn-hangzhou.aliyuncs.com/ns/app:tag' })
          .option('show-password', { type: 'boolean', default: false, describe: 'Print the registry password' })
          .option('api-version', { type: 'string', default: 'v1', describe: 'Response apiVersion: v1, v1beta1 or v1alpha1' }),
      async (args) => {
        exitCode = await runGetCredentials(toFlagValues(args), { image: args.image, showPassword: args['show-password'], apiVersion: args['api-version'] }, writeStdout);
      },
    )
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
