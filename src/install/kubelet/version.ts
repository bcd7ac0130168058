// Which CredentialProviderConfig and exec-protocol versions a kubelet accepts (docs/reference/kubelet-protocol.md §3.1), and what
// else its version changes: the feature gate before 1.24, tokenAttributes from 1.33, config
// directories from 1.34.
import { ProviderError } from '../../errors.ts';

export interface KubeletVersion {
  major: number;
  minor: number;
  text: string; // as found, e.g. "v1.30.2"
}

export interface ApiChoice {
  configApiVersion: string; // kubelet.config.k8s.io/…
  providerApiVersion: string; // credentialprovider.kubelet.k8s.io/…
  needsFeatureGate: boolean; // --feature-gates=KubeletCredentialProviders=true
}

/** Finds "vMAJOR.MINOR.PATCH" in `kubelet --version`, `k3s --version` or a bare "1.30". */
export function parseKubeletVersion(output: string): KubeletVersion {
  const m = /v?(\d+)\.(\d+)(?:\.\d+)?[^\s]*/.exec(output);
  if (!m) throw new ProviderError('config', `cannot read the kubelet version from ${JSON.stringify(output.trim().slice(0, 80))}; pass --kubelet-version (e.g. 1.30)`);
  return { major: Number(m[1]), minor: Number(m[2]), text: m[0] };
}

export function atLeast(v: KubeletVersion, minor: number): boolean {
  return v.major > 1 || (v.major === 1 && v.minor >= minor);
}

export function apiChoice(v: KubeletVersion): ApiChoice {
  if (!atLeast(v, 20)) {
    throw new ProviderError('config', `kubelet ${v.text} has no image credential provider support (it needs 1.20 or later); upgrade the node`);
  }
  if (!atLeast(v, 24)) return { configApiVersion: 'kubelet.config.k8s.io/v1alpha1', providerApiVersion: 'credentialprovider.kubelet.k8s.io/v1alpha1', needsFeatureGate: true };
  if (!atLeast(v, 26)) return { configApiVersion: 'kubelet.config.k8s.io/v1beta1', providerApiVersion: 'credentialprovider.kubelet.k8s.io/v1beta1', needsFeatureGate: false };
  return { configApiVersion: 'kubelet.config.k8s.io/v1', providerApiVersion: 'credentialprovider.kubelet.k8s.io/v1', needsFeatureGate: false };
}

/** Config apiVersions this kubelet can decode (all three stay registered once introduced). */
export function acceptedConfigApiVersions(v: KubeletVersion): string[] {
  const out = ['kubelet.config.k8s.io/v1alpha1'];
  if (atLeast(v, 24)) out.push('kubelet.config.k8s.io/v1beta1');
  if (atLeast(v, 26)) out.push('kubelet.config.k8s.io/v1');
  return out;
}

export function acceptedProviderApiVersions(v: KubeletVersion): string[] {
  const out = ['credentialprovider.kubelet.k8s.io/v1alpha1'];
  if (atLeast(v, 24)) out.push('credentialprovider.kubelet.k8s.io/v1beta1');
  if (atLeast(v, 26)) out.push('credentialprovider.kubelet.k8s.io/v1');
  return out;
}

export function supportsConfigDirectory(v: KubeletVersion): boolean {
  return atLeast(v, 34);
}

/** tokenAttributes: field exists from 1.33; cacheType exists (and is required) from 1.34. */
export function tokenAttributesSupport(v: KubeletVersion): 'none' | 'without-cache-type' | 'with-cache-type' {
  if (!atLeast(v, 33)) return 'none';
  return atLeast(v, 34) ? 'with-cache-type' : 'without-cache-type';
}
