// The install plan: every file change, and whether and how the kubelet is restarted. Nothing
// on the node changes here; the same inputs on an installed node give an empty plan.
import type { ConfigFile } from '../config/schema.ts';
import { needsRestart, type FileChange } from './changes.ts';
import { buildProviderEntry, type TokenAttributesInput } from './credential-config/entry.ts';
import { planKubeletConfig, providerNames } from './credential-config/plan.ts';
import { ProviderError } from '../errors.ts';
import type { HostFs } from './host-fs.ts';
import type { HostSystem } from './host-system.ts';
import { flagValue, flagValues, hasCredentialProviderGate } from './kubelet/argv.ts';
import { apiChoice, atLeast, parseKubeletVersion, type KubeletVersion } from './kubelet/version.ts';
import { detectLayout } from './layouts/detect.ts';
import { flagEditChange } from './layouts/flag-edit.ts';
import type { DetectOptions, Layout } from './layouts/types.ts';
import { FLAG_BIN_DIR, FLAG_CONFIG, FLAG_FEATURE_GATES, GATE_NAME, PROVIDER_NAME } from './paths.ts';
import { nodeArch } from './node-arch.ts';
import { payloadBase, planPayload, type PayloadStep } from './payload-dir.ts';
import { readPayloadSource, type PayloadSource } from './payload-source.ts';
import { providerConfigChange, resolveProviderConfig } from './provider-config.ts';
import type { SmokeTarget } from './smoke-test.ts';
import type { RestartPlan } from './transaction.ts';
import { wrapperChange } from './wrapper-file.ts';

export interface InstallInputs extends DetectOptions {
  payload: string; // pod-side payload directory to install
  providerConfig?: string; // pod-side path of the source config
  nodeProviderConfig: string; // host path
  configureKubelet: boolean;
  kubeletVersion?: string;
  tokenAttributes?: TokenAttributesInput;
}

export interface InstallPlan {
  layout: Layout;
  version: KubeletVersion;
  binDir: string;
  configPath: string;
  providerConfig: ConfigFile;
  source: PayloadSource;
  installDir: string; // host path of the versioned directory the wrapper names
  payload: PayloadStep | undefined; // undefined: an intact copy is already installed there
  smoke: SmokeTarget; // how the kubelet will run it
  changes: FileChange[];
  addedFlags: string[]; // kubelet flags the kubelet-flags change adds
  restart: RestartPlan | undefined;
  warnings: string[];
}

export async function planInstall(fs: HostFs, host: HostSystem, inputs: InstallInputs): Promise<InstallPlan> {
  const layout = detectLayout(fs, inputs);
  const warnings = [...layout.warnings];
  const source = readPayloadSource(inputs.payload);
  const arch = nodeArch(fs);
  if (source.manifest.arch !== arch) throw new ProviderError('config', `the payload is for ${source.manifest.arch} but this node runs ${arch} (its /bin/sh); deploy the image of the node's architecture`);
  const version = parseKubeletVersion(inputs.kubeletVersion ?? (await host.kubeletVersion(layout.kubeletBinary ?? 'kubelet')));
  const choice = apiChoice(version);

  const existingConfig = flagValue(layout.argv, FLAG_CONFIG);
  const existingBinDir = flagValue(layout.argv, FLAG_BIN_DIR);
  const configPath = pickPath('--kubelet-config-file', inputs.kubeletConfigFile, existingConfig, FLAG_CONFIG) ?? layout.defaultConfig;
  const binDir = pickPath('--bin-dir', inputs.binDir, existingBinDir, FLAG_BIN_DIR) ?? layout.defaultBinDir;
  for (const p of [configPath, binDir, inputs.nodeProviderConfig]) {
    if (!p.startsWith('/') || /[\s"'\\$`%]/.test(p)) throw new ProviderError('config', `${p} must be an absolute path without spaces, quotes, $, % or backslashes`);
  }

  const providerConfig = await resolveProviderConfig(fs, inputs.nodeProviderConfig, inputs.providerConfig);
  const changes: FileChange[] = [];
  const push = (c: FileChange | undefined) => c && changes.push(c);
  const installDir = `${payloadBase(fs, binDir)}/${source.id}`;
  const payload = planPayload(fs, payloadBase(fs, binDir), source);
  if (payload?.problem) warnings.push(`the installed payload is damaged (${payload.problem}): installing it again`);
  push(wrapperChange(fs, binDir, installDir, source.manifest.loader));
  push(providerConfigChange(fs, inputs.nodeProviderConfig, providerConfig));

  const entry = buildProviderEntry({ version, nodeProviderConfigPath: inputs.nodeProviderConfig, providerConfig, ...(inputs.tokenAttributes ? { tokenAttributes: inputs.tokenAttributes } : {}) });
  const saGate = serviceAccountGate(layout.argv, version);
  const kubeletConfig = planKubeletConfig(fs, configPath, entry, { version, serviceAccountTokenGate: saGate });
  push(kubeletConfig.change);
  checkBinaries(fs, binDir, providerNames(kubeletConfig.documents));
  const smoke: SmokeTarget = { executable: `${binDir}/${PROVIDER_NAME}`, args: entry.args, apiVersion: entry.apiVersion, version: source.manifest.version };

  // Flags: only the missing ones, only where this layout takes them.
  const missing: string[] = [];
  if (existingConfig === undefined) missing.push(`${FLAG_CONFIG}=${configPath}`);
  if (existingBinDir === undefined) missing.push(`${FLAG_BIN_DIR}=${binDir}`);
  if (choice.needsFeatureGate && !hasCredentialProviderGate(layout.argv)) missing.push(`${FLAG_FEATURE_GATES}=${GATE_NAME}=true`);
  let wired = layout.automaticWiring || missing.length === 0;
  let addedFlags: string[] = [];
  if (!layout.automaticWiring && missing.length > 0) {
    if (inputs.configureKubelet) {
      if (layout.flagTarget === undefined) throw new ProviderError('config', 'no place known to add the kubelet flags on this node; pass --kubelet-flags-file (an EnvironmentFile whose variable the kubelet ExecStart expands)');
      if (push(flagEditChange(fs, layout.flagTarget, missing))) addedFlags = missing;
      wired = true;
    } else {
      warnings.push(`the kubelet does not use the provider yet: add ${missing.join(' ')} to its command line, or re-run with --configure-kubelet`);
    }
  }

  const kubeletFacing = changes.some((c) => needsRestart(c) && (c.kind === 'kubelet-flags' || wired));
  let restart: RestartPlan | undefined;
  if (kubeletFacing) {
    if (layout.unit === undefined) warnings.push('the kubelet config changed but no unit is known to restart: restart the kubelet yourself');
    else restart = { unit: layout.unit, daemonReload: changes.some((c) => c.kind === 'kubelet-flags') };
  }
  return { layout, version, binDir, configPath, providerConfig, source, installDir, payload, smoke, changes, addedFlags, restart, warnings };
}

function pickPath(option: string, explicit: string | undefined, existing: string | undefined, flag: string): string | undefined {
  if (explicit !== undefined && existing !== undefined && explicit.replace(/\/+$/, '') !== existing.replace(/\/+$/, '')) {
    throw new ProviderError('config', `the kubelet already runs with ${flag}=${existing}; drop ${option} or make it ${existing} (a second flag would conflict)`);
  }
  return explicit ?? existing;
}

/** KubeletServiceAccountTokenForCredentialProviders: default on from 1.34, off in 1.33. */
function serviceAccountGate(argv: string[], version: KubeletVersion): boolean {
  const gates = flagValues(argv, FLAG_FEATURE_GATES).flatMap((v) => v.split(',')).map((g) => g.trim());
  if (gates.includes('KubeletServiceAccountTokenForCredentialProviders=false')) return false;
  if (gates.includes('KubeletServiceAccountTokenForCredentialProviders=true')) return atLeast(version, 33);
  return atLeast(version, 34);
}

/** The kubelet refuses to start when a configured provider has no executable in the bin dir (ours is planned). */
function checkBinaries(fs: HostFs, binDir: string, names: string[]): void {
  for (const name of names) {
    if (name === PROVIDER_NAME) continue;
    const st = fs.stat(`${binDir}/${name}`);
    if (st === undefined || !st.isFile || (st.mode & 0o111) === 0) {
      throw new ProviderError('install', `the kubelet config names provider "${name}" but ${binDir}/${name} is missing or not executable; the kubelet would not start. Install that plugin or remove its entry, then re-run`);
    }
  }
}
