// `get-credentials IMAGE`: the kubelet's path, from a shell.
import type { Argv } from 'yargs';
import { runGetCredentials } from '../get-credentials.ts';
import { toFlagValues } from '../options.ts';
import type { CliCommand } from './types.ts';

export const getCredentialsCommand: CliCommand = {
  register(cli: Argv, io) {
    return cli.command(
      'get-credentials <image>',
      'Run the kubelet path for IMAGE and print the response (password redacted)',
      (y) =>
        y
          .positional('image', { type: 'string', demandOption: true, describe: 'Image reference, e.g. registry.cn-hangzhou.aliyuncs.com/ns/app:tag' })
          .option('show-password', { type: 'boolean', default: false, describe: 'Print the registry password' })
          .option('api-version', { type: 'string', default: 'v1', describe: 'Response apiVersion: v1, v1beta1 or v1alpha1' }),
      async (args) => {
        io.setExitCode(await runGetCredentials(toFlagValues(args), { image: args.image, showPassword: args['show-password'], apiVersion: args['api-version'] }, io.writeStdout));
      },
    );
  },
};
