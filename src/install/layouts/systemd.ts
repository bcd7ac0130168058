// A kubelet run by systemd without kubeadm, k3s or ACK conventions. Flags go into our drop-in
// /etc/systemd/system/kubelet.service.d/90-aliyun-acr-credential-provider.conf:
//   - ExecStart expands a variable (KUBELET_EXTRA_ARGS preferred): if an EnvironmentFile sets
//     it, that file is edited (EnvironmentFile values override any Environment= we could add);
//     otherwise the drop-in sets it with its current value plus our flags (a later drop-in's
//     Environment= wins);
//   - no variable: systemd cannot append arguments to ExecStart from a drop-in, so the drop-in
//     resets ExecStart and repeats the effective one with our flags. A package update that
//     changes the unit's ExecStart is then masked until uninstall removes the drop-in.
import type { HostFs } from '../host-fs.ts';
import { ProviderError } from '../../errors.ts';
import { DEFAULT_BIN_DIR, DEFAULT_KUBELET_CONFIG, GENERIC_DROP_IN } from '../paths.ts';
import { effectiveEnvironment, envFileSetting, execStartVariables, expandExecStart, readService, type ServiceModel } from '../systemd/unit.ts';
import type { FlagTarget, Layout, LayoutName } from './types.ts';

export const KUBELET_UNIT = 'kubelet.service';

export function readKubeletService(fs: HostFs, unit = KUBELET_UNIT): ServiceModel | undefined {
  const model = readService(fs, unit);
  return model?.execStart === undefined ? undefined : model;
}

export function kubeletArgv(fs: HostFs, model: ServiceModel): string[] {
  return model.execStart === undefined ? [] : expandExecStart(model.execStart, effectiveEnvironment(fs, model));
}

export function genericFlagTarget(fs: HostFs, model: ServiceModel): FlagTarget {
  const execStart = model.execStart as string;
  const vars = execStartVariables(execStart);
  const variable = vars.includes('KUBELET_EXTRA_ARGS') ? 'KUBELET_EXTRA_ARGS' : vars[vars.length - 1];
  if (variable === undefined) return { kind: 'drop-in-exec-start', path: GENERIC_DROP_IN, execStart };
  const envFile = envFileSetting(fs, model, variable);
  if (envFile !== undefined) return { kind: 'env-file', path: envFile, variable };
  return { kind: 'drop-in-env', path: GENERIC_DROP_IN, variable, currentValue: model.environment.get(variable) ?? '' };
}

export function systemdLayout(fs: HostFs, unit: string | undefined, name: LayoutName = 'systemd'): Layout | undefined {
  const unitName = unit ?? KUBELET_UNIT;
  const model = readKubeletService(fs, unitName);
  if (model === undefined) return undefined;
  const argv = kubeletArgv(fs, model);
  return {
    name,
    unit: unitName,
    kubeletBinary: argv[0],
    argv,
    defaultBinDir: DEFAULT_BIN_DIR,
    defaultConfig: DEFAULT_KUBELET_CONFIG,
    automaticWiring: false,
    flagTarget: genericFlagTarget(fs, model),
    warnings: [],
  };
}

export function requireSystemdLayout(fs: HostFs, unit: string | undefined): Layout {
  const layout = systemdLayout(fs, unit);
  if (layout === undefined) throw new ProviderError('config', `no ${unit ?? KUBELET_UNIT} with an ExecStart found under /etc/systemd/system, /usr/lib/systemd/system or /lib/systemd/system; pass --kubelet-unit`);
  return layout;
}
