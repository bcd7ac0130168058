// The provider's own config on the node: read from --provider-config (YAML or JSON, e.g. the
// mounted ConfigMap), validated with the provider's loader, written as JSON (the provider parses
// JSON without loading its YAML parser). No secrets in it, so 0644.
import { readConfigFile } from '../config/load.ts';
import type { ConfigFile } from '../config/schema.ts';
import { describeError, ProviderError } from '../errors.ts';
import { bytes, fileChange, optionalBytes, type FileChange } from './changes.ts';
import type { HostFs } from './host-fs.ts';

export const PROVIDER_CONFIG_MODE = 0o644;

export async function loadProviderConfig(path: string): Promise<ConfigFile> {
  try {
    return await readConfigFile(path);
  } catch (error) {
    throw new ProviderError('config', `${describeError(error)}; fix the provider config and re-run`);
  }
}

export function renderProviderConfig(config: ConfigFile): Buffer {
  return Buffer.from(`${JSON.stringify(config, null, 2)}\n`);
}

/** The config to install: the source if given, else what the node already has, else {}. */
export async function resolveProviderConfig(fs: HostFs, nodePath: string, source: string | undefined): Promise<ConfigFile> {
  if (source !== undefined) return loadProviderConfig(source);
  if (!fs.exists(nodePath)) return {};
  try {
    return await readConfigFile(fs.resolve(nodePath));
  } catch {
    return {};
  }
}

export function providerConfigChange(fs: HostFs, nodePath: string, config: ConfigFile): FileChange | undefined {
  const path = fs.realHostPath(nodePath);
  return fileChange(path, 'provider-config', optionalBytes(fs.read(path)), fs.stat(path)?.mode, bytes(renderProviderConfig(config)), PROVIDER_CONFIG_MODE);
}
