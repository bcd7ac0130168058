// Reads the config file. JSON (what the installer writes on nodes) is parsed natively; only
// other content loads the YAML parser, which costs ~12 ms of start-up on every kubelet call.
// The file must be a regular file of at most 1 MiB (a FIFO or /dev/zero given as --config would
// otherwise block or fill memory); symbolic links are followed (ConfigMap volumes are made of them).
import { ProviderError, describeError } from '../errors.ts';
import { readRegularFile, UnsafeFileError } from '../fs/regular-file.ts';
import { validateConfigFile, type ConfigFile } from './schema.ts';
import { resolveConfig, type FlagValues, type ProviderConfig } from './resolve.ts';

export async function loadConfig(flags: FlagValues, env: NodeJS.ProcessEnv = process.env): Promise<ProviderConfig> {
  const file = flags.config === undefined ? {} : await readConfigFile(flags.config);
  return resolveConfig(file, flags, env);
}

/** A real config is a few KiB. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

export async function readConfigFile(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = readRegularFile(path, MAX_CONFIG_BYTES, { owner: 'anyone' }).toString('utf8');
  } catch (error) {
    if (error instanceof UnsafeFileError) throw new ProviderError('config', `config file ${path} ${error.reason}`);
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : describeError(error);
    throw new ProviderError('config', `cannot read config file ${path}: ${reason}`);
  }
  const parsed = await parseConfigText(path, text);
  const result = validateConfigFile(parsed);
  if (!result.ok) throw new ProviderError('config', `invalid config file ${path}: ${result.problem}`);
  return result.config;
}

async function parseConfigText(path: string, text: string): Promise<unknown> {
  const body = text.replace(/^\uFEFF/, '');
  if (/^\s*\{/.test(body)) {
    try {
      return JSON.parse(body);
    } catch {
      throw new ProviderError('config', `invalid config file ${path}: not valid JSON`);
    }
  }
  const { parseYaml } = await import('../lazy-yaml.ts');
  try {
    return parseYaml(body);
  } catch (error) {
    throw new ProviderError('config', `invalid config file ${path}: not valid YAML: ${describeError(error)}`);
  }
}
