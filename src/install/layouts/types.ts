// What the installer needs to know about how a node starts its kubelet.
export type LayoutName = 'kubeadm' | 'k3s' | 'ack' | 'systemd' | 'manual';
export const LAYOUT_NAMES: readonly LayoutName[] = ['kubeadm', 'k3s', 'ack', 'systemd'];

/** Where missing kubelet flags are added. */
export type FlagTarget =
  | { kind: 'env-file'; path: string; variable: string }
  | { kind: 'drop-in-env'; path: string; variable: string; currentValue: string }
  | { kind: 'drop-in-exec-start'; path: string; execStart: string };

export interface Layout {
  name: LayoutName;
  unit: string | undefined; // service restarted after kubelet-facing changes
  kubeletBinary: string | undefined; // asked for --version (k3s/rke2: their own binary)
  argv: string[]; // the kubelet's effective command line, to find flags it already has
  defaultBinDir: string;
  defaultConfig: string;
  automaticWiring: boolean; // k3s/rke2 add the kubelet flags themselves
  flagTarget: FlagTarget | undefined;
  warnings: string[];
}

export interface DetectOptions {
  layout?: LayoutName;
  kubeletUnit?: string;
  kubeletFlagsFile?: string;
  kubeletFlagsVar?: string;
  binDir?: string;
  kubeletConfigFile?: string;
}
