// ACK (Alibaba Cloud Container Service for Kubernetes) node pools.
//
// Choice: the two flags go into KUBELET_CUSTOMIZED_ARGS in /etc/kubernetes/kubelet-customized-args.conf,
// the file ACK itself documents for "a kubelet parameter that is not on the supported list",
// then `systemctl daemon-reload && systemctl restart kubelet`. Detection: that file exists, or a
// kubelet unit/drop-in mentions KUBELET_CUSTOMIZED_ARGS. We only edit the file when the node's
// kubelet unit really expands $KUBELET_CUSTOMIZED_ARGS and loads the file as an EnvironmentFile
// (checked on the node, not assumed); otherwise we fall back to the generic systemd drop-in with a
// warning. Everything else on the line (ACK's eviction/reservation flags) stays byte-identical.
//
// Evidence (public docs, stored copies found with the search tool):
//   - "Customize kubelet parameters for a node pool", FAQ "How do I modify a kubelet parameter that
//     is not on the supported list?": "ACK lets you write custom parameters to the
//     /etc/kubernetes/kubelet-customized-args.conf file … Parameters written to this file take
//     precedence over … the custom kubelet configuration feature for node pools when the node
//     restarts", with the recipe `echo 'KUBELET_CUSTOMIZED_ARGS="--key=value"' > …; systemctl
//     daemon-reload; systemctl restart kubelet`, and the note that ACK initialization overwrites
//     the file if it is modified from "Pre-defined Custom Data".
//     https://www.alibabacloud.com/help/en/ack/ack-managed-and-ack-dedicated/user-guide/customize-the-kubelet-configurations-of-a-node-pool
//     (zh: https://help.aliyun.com/document_detail/452567.html)
//   - The same docs: the console does not list the credential provider flags, and "do not use the
//     command line to define kubelet parameters that are not supported in the console".
//   - ACK's kubelet read-only-port change notice: "do not manually modify the kubelet configuration
//     file /etc/kubernetes/kubelet-customized-args.conf … The kubelet configuration in the ACK
//     console will automatically overwrite the kubelet configuration file."
//   - A public user note shows the file on a live node:
//     KUBELET_CUSTOMIZED_ARGS=" --eviction-hard=… --system-reserved=… --kube-reserved=… "
//   Not found: the text of ACK's kubelet unit/drop-in itself, hence the on-node check above.
//
// Risk: applying "Kubelet configuration" to the node pool (console or ModifyNodePoolNodeConfig), a
// node-pool upgrade, or re-initialising the node rewrites kubelet-customized-args.conf and drops
// our flags. That fails safe (the kubelet restarts without the provider; images then need
// imagePullSecrets), and the DaemonSet re-adds the flags the next time its pod starts. Uninstall
// restores the file only if it still holds what we wrote; a file ACK rewrote is left alone.
import type { HostFs } from '../host-fs.ts';
import { ProviderError } from '../../errors.ts';
import { execStartVariables } from '../systemd/unit.ts';
import type { Layout } from './types.ts';
import { KUBELET_UNIT, readKubeletService, systemdLayout } from './systemd.ts';

export const ACK_ARGS_FILE = '/etc/kubernetes/kubelet-customized-args.conf';
export const ACK_ARGS_VAR = 'KUBELET_CUSTOMIZED_ARGS';

export function isAck(fs: HostFs, unit: string | undefined): boolean {
  if (fs.exists(ACK_ARGS_FILE)) return true;
  const model = readKubeletService(fs, unit ?? KUBELET_UNIT);
  return model !== undefined && model.files.some((f) => fs.readText(f)?.includes(ACK_ARGS_VAR) === true);
}

export function ackLayout(fs: HostFs, unit: string | undefined): Layout {
  const unitName = unit ?? KUBELET_UNIT;
  const model = readKubeletService(fs, unitName);
  const base = systemdLayout(fs, unitName, 'ack');
  if (model === undefined || base === undefined) throw new ProviderError('config', `ACK node without a ${unitName} ExecStart; pass --layout systemd and --kubelet-unit`);
  const loadsFile = model.envFiles.some((f) => f.path === ACK_ARGS_FILE);
  if (loadsFile && execStartVariables(model.execStart as string).includes(ACK_ARGS_VAR)) {
    return { ...base, flagTarget: { kind: 'env-file', path: ACK_ARGS_FILE, variable: ACK_ARGS_VAR } };
  }
  return {
    ...base,
    warnings: [`this ACK node's kubelet unit does not load ${ACK_ARGS_FILE} into $${ACK_ARGS_VAR}; using a systemd drop-in, which ACK node-pool operations may not preserve`],
  };
}
