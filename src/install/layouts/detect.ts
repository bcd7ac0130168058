// Picks the node's layout: --layout if given, else k3s/rke2, ACK, kubeadm, plain systemd, in
// that order (ACK nodes can also carry kubeadm files). Explicit paths and --kubelet-flags-file
// override what the layout would choose.
import type { HostFs } from '../host-fs.ts';
import { ProviderError } from '../../errors.ts';
import { DEFAULT_BIN_DIR, DEFAULT_KUBELET_CONFIG } from '../paths.ts';
import { ACK_ARGS_VAR, ackLayout, isAck } from './ack.ts';
import { k3sLayout, pickRancherUnit } from './k3s.ts';
import { isKubeadm, kubeadmLayout } from './kubeadm.ts';
import { requireSystemdLayout, systemdLayout } from './systemd.ts';
import type { DetectOptions, Layout } from './types.ts';

export const UNRECOGNISED =
  'cannot tell how this node starts the kubelet (no k3s/rke2 service, no /etc/kubernetes/kubelet-customized-args.conf, no /var/lib/kubelet/kubeadm-flags.env, no kubelet.service); ' +
  'pass --layout kubeadm|k3s|ack|systemd (with --kubelet-unit), or --bin-dir and --kubelet-config-file (plus --kubelet-flags-file to add the flags)';

export function detectLayout(fs: HostFs, options: DetectOptions): Layout {
  const layout = chooseLayout(fs, options);
  if (options.kubeletFlagsFile !== undefined) {
    const variable = options.kubeletFlagsVar ?? (layout.name === 'ack' ? ACK_ARGS_VAR : 'KUBELET_EXTRA_ARGS');
    return { ...layout, flagTarget: { kind: 'env-file', path: options.kubeletFlagsFile, variable } };
  }
  return layout;
}

function chooseLayout(fs: HostFs, options: DetectOptions): Layout {
  const unit = options.kubeletUnit;
  switch (options.layout) {
    case 'k3s':
      return k3sLayout(fs, unit);
    case 'ack':
      return ackLayout(fs, unit);
    case 'kubeadm':
      return kubeadmLayout(fs, unit);
    case 'systemd':
      return requireSystemdLayout(fs, unit);
    default:
      break;
  }
  if ((unit === undefined || isRancherUnit(unit)) && pickRancherUnit(fs, unit) !== undefined) return k3sLayout(fs, unit);
  if (isAck(fs, unit)) return ackLayout(fs, unit);
  if (isKubeadm(fs)) return kubeadmLayout(fs, unit);
  const systemd = systemdLayout(fs, unit);
  if (systemd !== undefined) return systemd;
  if (options.binDir !== undefined && options.kubeletConfigFile !== undefined) return manualLayout(unit);
  throw new ProviderError('config', UNRECOGNISED);
}

/** Paths given explicitly on a node we cannot read: no flag editing unless a file is named. */
function manualLayout(unit: string | undefined): Layout {
  return {
    name: 'manual',
    unit,
    kubeletBinary: 'kubelet',
    argv: [],
    defaultBinDir: DEFAULT_BIN_DIR,
    defaultConfig: DEFAULT_KUBELET_CONFIG,
    automaticWiring: false,
    flagTarget: undefined,
    warnings: unit === undefined ? ['no --kubelet-unit given: the kubelet is not restarted; restart it yourself for config changes to apply'] : [],
  };
}

function isRancherUnit(unit: string | undefined): boolean {
  return unit !== undefined && /^(k3s|k3s-agent|rke2-server|rke2-agent)(\.service)?$/.test(unit);
}
