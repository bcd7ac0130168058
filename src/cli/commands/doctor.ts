// `doctor [--image IMAGE] [--output text|json] [--host-root /] [--check-registry]`: checks the
// node end to end (metadata, role, region, CR API, permissions, instances, a token, the cache
// directory, the kubelet's flags and CredentialProviderConfig). The checks live in src/doctor/,
// loaded only when this command runs.
import type { Argv } from 'yargs';
import { ProviderError } from '../../errors.ts';
import { toFlagValues } from '../options.ts';
import type { CliCommand } from './types.ts';

export const doctorCommand: CliCommand = {
  register(cli: Argv, io) {
    return cli.command(
      'doctor',
      'Check this node end to end and print one line per check with what to fix (exit 1 if a check fails)',
      (y) =>
        y
          .option('image', { type: 'string', describe: 'An image to get a token for (default: every configured registry)' })
          .option('output', { type: 'string', choices: ['text', 'json'], default: 'text', describe: 'Report format' })
          .option('host-root', { type: 'string', default: '/', describe: 'Where the host filesystem is (in a DaemonSet pod: /host, with hostPID)' })
          .option('check-registry', { type: 'boolean', default: false, describe: 'Also GET /v2/ on the registry with the token (expects 200)' })
          .option('registry-endpoint', { type: 'string', array: true, describe: 'HOST=URL: where to send the --check-registry request for HOST (proxies, tests)' })
          .option('provider-name', { type: 'string', describe: 'Name of our entry in the CredentialProviderConfig [default: aliyun-acr-credential-provider]' }),
      async (args) => {
        const registryEndpoints: Record<string, string> = {};
        for (const value of args['registry-endpoint'] ?? []) {
          const m = /^([^=]+)=(https?:\/\/.+)$/.exec(String(value));
          if (!m) throw new ProviderError('input', `--registry-endpoint: expected HOST=URL, got "${value}"`);
          registryEndpoints[m[1]!] = m[2]!;
        }
        const { runDoctor } = await import('../../doctor/run.ts');
        io.setExitCode(
          await runDoctor(
            toFlagValues(args),
            {
              ...(args.image !== undefined ? { image: args.image } : {}),
              output: args.output === 'json' ? 'json' : 'text',
              hostRoot: args['host-root'],
              checkRegistry: args['check-registry'],
              registryEndpoints,
              ...(args['provider-name'] !== undefined ? { providerName: args['provider-name'] } : {}),
            },
            io.writeStdout,
          ),
        );
      },
    );
  },
};
