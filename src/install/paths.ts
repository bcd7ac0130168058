// Names and default host paths of the installer. Host paths are absolute paths on the node;
// HostFs resolves them under --host-root.

export const PROVIDER_NAME = 'aliyun-acr-credential-provider';

// The provider's own config on the node. JSON: the provider parses it without loading YAML.
export const NODE_PROVIDER_CONFIG = '/etc/kubernetes/aliyun-acr-credential-provider/config.json';

// Defaults when the kubelet has no credential provider flags yet. Under /etc/kubernetes rather
// than /usr/local: writable on every distribution (including read-only /usr images), next to
// the rest of the kubelet's configuration, and one tree to inspect or remove.
export const DEFAULT_BIN_DIR = '/etc/kubernetes/credential-provider/bin';
export const DEFAULT_KUBELET_CONFIG = '/etc/kubernetes/credential-provider/config.yaml';

// k3s and rke2 pass the kubelet flags themselves when both of these exist at agent start.
export const RANCHER_BIN_DIR = '/var/lib/rancher/credentialprovider/bin';
export const RANCHER_KUBELET_CONFIG = '/var/lib/rancher/credentialprovider/config.yaml';

// Our file in a kubelet config directory (1.34+).
export const DIRECTORY_CONFIG_FILE = `${PROVIDER_NAME}.yaml`;

export const STATE_DIR = '/var/lib/aliyun-acr-credential-provider/installer';
export const MANIFEST_FILE = `${STATE_DIR}/manifest.json`;
export const JOURNAL_FILE = `${STATE_DIR}/journal.json`; // an unfinished transaction
export const LOCK_FILE = `${STATE_DIR}/lock`;
export const BACKUP_DIR = `${STATE_DIR}/backups`;

export const GENERIC_DROP_IN = `/etc/systemd/system/kubelet.service.d/90-${PROVIDER_NAME}.conf`;

export const FLAG_CONFIG = '--image-credential-provider-config';
export const FLAG_BIN_DIR = '--image-credential-provider-bin-dir';
export const FLAG_FEATURE_GATES = '--feature-gates';
export const GATE_NAME = 'KubeletCredentialProviders';

export const DEFAULT_HEALTHZ_URL = 'http://127.0.0.1:10248/healthz';
