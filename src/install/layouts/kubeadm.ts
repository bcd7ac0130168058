// kubeadm DEB/RPM packages: 10-kubeadm.conf loads /var/lib/kubelet/kubeadm-flags.env (kubeadm
// rewrites it on join/upgrade, so we never edit it) and /etc/default/kubelet (DEB) or
// /etc/sysconfig/kubelet (RPM), whose KUBELET_EXTRA_ARGS is meant for the admin and wins
// conflicts. Our flags go there; the file is created when the drop-in references a missing one.
import type { HostFs } from '../host-fs.ts';
import { ProviderError } from '../../errors.ts';
import { execStartVariables } from '../systemd/unit.ts';
import type { Layout } from './types.ts';
import { KUBELET_UNIT, readKubeletService, systemdLayout } from './systemd.ts';

export const KUBEADM_FLAGS_ENV = '/var/lib/kubelet/kubeadm-flags.env';
const EXTRA_ARGS_FILES = ['/etc/default/kubelet', '/etc/sysconfig/kubelet'];

export function isKubeadm(fs: HostFs): boolean {
  return fs.exists(KUBEADM_FLAGS_ENV);
}

export function kubeadmLayout(fs: HostFs, unit: string | undefined): Layout {
  const unitName = unit ?? KUBELET_UNIT;
  const model = readKubeletService(fs, unitName);
  const base = systemdLayout(fs, unitName, 'kubeadm');
  if (model === undefined || base === undefined) throw new ProviderError('config', `kubeadm node without a ${unitName} ExecStart (10-kubeadm.conf); pass --layout systemd or --kubelet-flags-file`);
  const referenced = model.envFiles.map((f) => f.path).filter((p) => EXTRA_ARGS_FILES.includes(p));
  const envFile = referenced[referenced.length - 1];
  if (envFile !== undefined && execStartVariables(model.execStart as string).includes('KUBELET_EXTRA_ARGS')) {
    return { ...base, flagTarget: { kind: 'env-file', path: envFile, variable: 'KUBELET_EXTRA_ARGS' } };
  }
  return { ...base, warnings: [`the kubelet drop-in references neither /etc/default/kubelet nor /etc/sysconfig/kubelet with $KUBELET_EXTRA_ARGS; using a systemd drop-in instead`] };
}
