// k3s and rke2: the agent passes --image-credential-provider-{config,bin-dir} to its embedded
// kubelet when both /var/lib/rancher/credentialprovider/bin and …/config.yaml exist at start
// (k3s pkg/daemons/agent ImageCredProvAvailable), or the paths set with its own flags of the
// same names (command line or /etc/rancher/{k3s,rke2}/config.yaml). No flag editing: files,
// then a restart of the k3s/rke2 service.
import { parse } from 'yaml';
import type { HostFs } from '../host-fs.ts';
import { ProviderError } from '../../errors.ts';
import { FLAG_BIN_DIR, FLAG_CONFIG, RANCHER_BIN_DIR, RANCHER_KUBELET_CONFIG } from '../paths.ts';
import { findUnitFile, readService } from '../systemd/unit.ts';
import type { Layout } from './types.ts';
import { kubeletArgv } from './systemd.ts';

const SERVICES = ['k3s.service', 'k3s-agent.service', 'rke2-server.service', 'rke2-agent.service'];

export function rancherUnits(fs: HostFs): string[] {
  return SERVICES.filter((s) => findUnitFile(fs, s) !== undefined);
}

function enabled(fs: HostFs, unit: string): boolean {
  return fs.entryExists(`/etc/systemd/system/multi-user.target.wants/${unit}`);
}

export function pickRancherUnit(fs: HostFs, requested: string | undefined): string | undefined {
  if (requested !== undefined) return SERVICES.includes(withSuffix(requested)) ? withSuffix(requested) : undefined;
  const units = rancherUnits(fs);
  if (units.length <= 1) return units[0];
  const on = units.filter((u) => enabled(fs, u));
  if (on.length === 1) return on[0];
  throw new ProviderError('config', `several k3s/rke2 services are installed (${units.join(', ')}); pass --kubelet-unit with the one this node runs`);
}

export function k3sLayout(fs: HostFs, requested: string | undefined): Layout {
  const unit = pickRancherUnit(fs, requested);
  if (unit === undefined) throw new ProviderError('config', 'no k3s, k3s-agent, rke2-server or rke2-agent service found; pass --kubelet-unit');
  const model = readService(fs, unit);
  const argv = model ? kubeletArgv(fs, model) : [];
  const product = unit.startsWith('rke2') ? 'rke2' : 'k3s';
  return {
    name: 'k3s',
    unit,
    kubeletBinary: argv[0] ?? `/usr/local/bin/${product}`,
    argv: [...argv, ...configFileFlags(fs, product)],
    defaultBinDir: RANCHER_BIN_DIR,
    defaultConfig: RANCHER_KUBELET_CONFIG,
    automaticWiring: true,
    flagTarget: undefined,
    warnings: [],
  };
}

/** The credential provider settings of /etc/rancher/<product>/config.yaml, as flags. */
function configFileFlags(fs: HostFs, product: string): string[] {
  const text = fs.readText(`/etc/rancher/${product}/config.yaml`);
  if (text === undefined) return [];
  let doc: unknown;
  try {
    doc = parse(text);
  } catch {
    return [];
  }
  if (typeof doc !== 'object' || doc === null) return [];
  const out: string[] = [];
  for (const flag of [FLAG_CONFIG, FLAG_BIN_DIR]) {
    const value = (doc as Record<string, unknown>)[flag.slice(2)];
    if (typeof value === 'string') out.push(`${flag}=${value}`);
  }
  return out;
}

function withSuffix(unit: string): string {
  return unit.endsWith('.service') ? unit : `${unit}.service`;
}
