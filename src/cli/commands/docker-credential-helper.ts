// The docker-credential-helpers protocol (Docker, skopeo, podman, buildah, crane...), served by
// the same binary and the same path as the kubelet's requests: the shared disk cache, the same
// identity. Invoked as `docker-credential-aliyun-acr <action>` (a symlink or copy of the binary
// under that name, found on PATH) or as `docker-credential-helper <action>`.
//   get    stdin: a server URL; stdout: {"ServerURL","Username","Secret"}, or the standard
//          "credentials not found in native keychain" with exit 1 for hosts we do not serve;
//   list   stdout: {"<server URL>": "<username>"} for configured domains and cached registries;
//   store, erase: refused (tokens are minted on demand, nothing is stored).
// Errors go to stdout (one line, exit 1): that is where helper clients read them.
import { existsSync, readdirSync } from 'node:fs';
import { checkCacheDir } from '../../cache/cache-dir.ts';
import type { Argv } from 'yargs';
import { SafeFilenameEncoder } from 'keyv-file/lib/safe-encoder.js';
import { openCacheStore } from '../../cache/store.ts';
import { DEFAULT_TIMEOUT_MS, type FlagValues, type ProviderConfig } from '../../config/resolve.ts';
import { describeError, EXIT_FAILURE, EXIT_OK } from '../../errors.ts';
import { readCredentialFile } from '../../identity/credential-file.ts';
import { planIdentity } from '../../identity/request-identity.ts';
import { oneLine, redact } from '../../log/logger.ts';
import { isFresh, isTokenEntry } from '../../provider/token-entry.ts';
import { invocationDeadline, loadInvocationConfig, provideWithinDeadline, startInvocation } from '../invocation.ts';
import { toFlagValues } from '../options.ts';
import { readStdin } from '../stdin.ts';
import type { CliCommand } from './types.ts';

/** The executable name Docker-style clients look for: credHelpers value "aliyun-acr". */
export const HELPER_EXECUTABLE = 'docker-credential-aliyun-acr';
/** Where the helper finds its config when neither --config nor the variable says. */
export const HELPER_CONFIG_ENV = 'ALIYUN_ACR_CREDENTIAL_PROVIDER_CONFIG';
export const DEFAULT_HELPER_CONFIG = '/etc/kubernetes/aliyun-acr-credential-provider/config.json';
export const NOT_FOUND = 'credentials not found in native keychain';
const ACTIONS = ['get', 'list', 'store', 'erase'] as const;
const MAX_STDIN = 64 * 1024;

export const dockerCredentialHelperCommand: CliCommand = {
  register(cli: Argv, io) {
    return cli.command(
      'docker-credential-helper <action>',
      `Answer the docker-credential-helpers protocol (also what the binary does when named ${HELPER_EXECUTABLE})`,
      (y) => y.positional('action', { type: 'string', choices: ACTIONS, demandOption: true, describe: 'get (server URL on stdin), list, store, erase' }),
      async (args) => {
        io.setExitCode(await runDockerCredentialHelper(String(args.action), toFlagValues(args), io.writeStdout));
      },
    );
  },
};

export async function runDockerCredentialHelper(action: string, flags: FlagValues, writeStdout: (text: string) => Promise<void>): Promise<number> {
  const fail = async (message: string): Promise<number> => {
    await writeStdout(`${oneLine(redact(message))}\n`);
    return EXIT_FAILURE;
  };
  if (action === 'store' || action === 'erase') {
    await readStdin(MAX_STDIN, { remainingMs: DEFAULT_TIMEOUT_MS, timeoutMs: DEFAULT_TIMEOUT_MS }).catch(() => '');
    return fail(`${action} is not supported: ${HELPER_EXECUTABLE} mints short-lived registry tokens on demand from this machine's Alibaba Cloud identity and stores nothing; use "docker login" with another credential store for other registries`);
  }
  if (action !== 'get' && action !== 'list') return fail(`unknown action "${action}": expected get, list, store or erase`);
  const inv = startInvocation();
  try {
    const config = await loadInvocationConfig(inv, withHelperConfig(flags));
    if (action === 'list') {
      await writeStdout(`${JSON.stringify(await listServers(config))}\n`);
      return EXIT_OK;
    }
    const serverUrl = (await readStdin(MAX_STDIN, { remainingMs: invocationDeadline(inv, config).remainingMs(), timeoutMs: config.timeoutMs })).trim();
    const host = hostOf(serverUrl);
    if (!host) return fail(NOT_FOUND);
    const result = await provideWithinDeadline(inv, config, { apiVersion: 'credentialprovider.kubelet.k8s.io/v1', image: host });
    const auth = result.auth?.[host];
    if (!auth) return fail(NOT_FOUND);
    await writeStdout(`${JSON.stringify({ ServerURL: serverUrl, Username: auth.username, Secret: auth.password })}\n`);
    return EXIT_OK;
  } catch (error) {
    return fail(describeError(error));
  }
}

function withHelperConfig(flags: FlagValues): FlagValues {
  if (flags.config !== undefined) return flags;
  const fromEnv = process.env[HELPER_CONFIG_ENV]?.trim();
  if (fromEnv) return { ...flags, config: fromEnv };
  return existsSync(DEFAULT_HELPER_CONFIG) ? { ...flags, config: DEFAULT_HELPER_CONFIG } : flags;
}

/** "https://host:port/v2/" and "host:port" both mean host:port. */
export function hostOf(serverUrl: string): string {
  const withoutScheme = serverUrl.replace(/^[A-Za-z][A-Za-z0-9+.-]*:\/\//, '');
  return withoutScheme.split('/')[0] ?? '';
}

async function listServers(config: ProviderConfig): Promise<Record<string, string>> {
  const servers: Record<string, string> = {};
  for (const entry of config.registries) {
    let username = 'cr_temp_user';
    if (entry.credentialFile) {
      try {
        username = readCredentialFile(entry.credentialFile).username;
      } catch {
        continue; // an unusable file serves nothing
      }
    }
    for (const domain of entry.domains) servers[domain] = username;
  }
  // Registries with a fresh token of this machine's identity in the shared cache.
  const plan = planIdentity({ apiVersion: 'credentialprovider.kubelet.k8s.io/v1', image: '' }, undefined, config, process.env);
  if (plan.kind !== 'node') return servers;
  const prefix = SafeFilenameEncoder.encode(`v1:token:${plan.id}:`);
  const cache = checkCacheDir(config.cacheDir);
  if (!cache.usable) return servers;
  let files: string[];
  try {
    files = readdirSync(cache.dir.self()).filter((f) => f.startsWith(prefix));
  } catch {
    return servers;
  }
  const store = openCacheStore(cache.dir, () => undefined);
  for (const file of files) {
    const key = SafeFilenameEncoder.decode(file).replace(/^v1:/, '');
    const entry = await store.get(key, isTokenEntry);
    if (entry?.host && isFresh(entry, Date.now())) servers[entry.host] = entry.username;
  }
  return servers;
}
