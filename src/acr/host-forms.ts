// The built-in ACR host forms, one row each: the grammar of the host's first label (the rest is
// "<region>.<domain>"), the kubelet matchImages patterns that route the form to us, and the words
// the docs use. The installer's matchImages, kubelet-config.example.yaml and the README's table
// of recognised registries are derived from these rows (`npm run generate`; a test keeps them
// equal). A new form is a RegistryTarget variant plus a row here; the compiler lists the rest.
import type { RegistryTarget } from './registry-host.ts';

export type BuiltinTarget = Exclude<RegistryTarget, { kind: 'custom' | 'unrecognized' }>;

export interface HostForm<K extends BuiltinTarget['kind']> {
  /** The DNS labels after the region, e.g. "cr.aliyuncs.com". */
  domain: string;
  /** The target for a first label of this form (lower case), or undefined. */
  parse(label: string, host: string, region: string): Extract<BuiltinTarget, { kind: K }> | undefined;
  /** matchImages patterns without a port; each has the label count of the form ('*' stays within a label). */
  matchImages: readonly string[];
  docs: { name: string; grammar: string; token: string };
}

// 3-30 chars of [a-z0-9-], no leading or trailing '-'.
const INSTANCE_NAME = /^[a-z0-9][a-z0-9-]{1,28}[a-z0-9]$/;
const PERSONAL_LABEL = /^registry(-intl)?(?:-(vpc|internal))?$/;
const DEDICATED_LABEL = /^crpi-([a-z0-9]+)(-vpc)?$/;

export const HOST_FORMS: { readonly [K in BuiltinTarget['kind']]: HostForm<K> } = {
  // Legacy default instances; -internal is the classic-network endpoint (it exists for -intl too).
  personal: {
    domain: 'aliyuncs.com',
    parse(label, host, region) {
      const m = PERSONAL_LABEL.exec(label);
      return m ? { kind: 'personal', host, region, intl: m[1] !== undefined, network: m[2] === 'vpc' ? 'vpc' : m[2] === 'internal' ? 'internal' : 'public' } : undefined;
    },
    matchImages: ['registry*.*.aliyuncs.com'],
    docs: { name: 'Personal Edition', grammar: 'registry[-intl][-vpc|-internal].<region>.aliyuncs.com', token: "CR API 2016-06-07 `GET /tokens` in **that host's** region (cross-region works)" },
  },
  // Enterprise Edition system domains.
  enterprise: {
    domain: 'cr.aliyuncs.com',
    parse(label, host, region) {
      // Names may themselves contain "-registry": only the final suffix counts.
      const vpc = label.endsWith('-registry-vpc');
      const suffix = vpc ? '-registry-vpc' : label.endsWith('-registry') ? '-registry' : undefined;
      const instanceName = suffix && label.slice(0, -suffix.length);
      if (!instanceName || !INSTANCE_NAME.test(instanceName)) return undefined;
      return { kind: 'enterprise', host, region, instanceName, network: vpc ? 'vpc' : 'public' };
    },
    matchImages: ['*-registry.*.cr.aliyuncs.com', '*-registry-vpc.*.cr.aliyuncs.com'],
    docs: { name: 'Enterprise Edition', grammar: '<instance>-registry[-vpc].<region>.cr.aliyuncs.com', token: "instance name → id by paging `ListInstance` in that region (exact name match; cached on disk for 24 h), then 2018-12-01 `GetAuthorizationToken`; a name this identity cannot see (another account's public images, e.g. PAI's `dsw-registry-vpc`) gets \"no credentials\" for 5 minutes, so the pull is anonymous" },
  },
  // Personal Edition exclusive endpoints (instances created since 2024-09-09).
  'personal-dedicated': {
    domain: 'personal.cr.aliyuncs.com',
    parse(label, host, region) {
      const m = DEDICATED_LABEL.exec(label);
      return m ? { kind: 'personal-dedicated', host, region, instanceId: `crpi-${m[1]}`, network: m[2] ? 'vpc' : 'public' } : undefined;
    },
    matchImages: ['crpi-*.*.personal.cr.aliyuncs.com'],
    docs: { name: 'Personal Edition created after 2024-09-09', grammar: 'crpi-<id>[-vpc].<region>.personal.cr.aliyuncs.com', token: 'from a node-local `credentialFile` of a `registries` entry (below); without one, refused with a clear message: Alibaba Cloud documents no temporary-token API for these instances' },
  },
};

/** Every built-in form, without a port and with ":443" (the kubelet matches ports exactly). */
export function builtinMatchImages(): string[] {
  const patterns = Object.values(HOST_FORMS).flatMap((form) => form.matchImages);
  return [...patterns, ...patterns.map((p) => `${p}:443`)];
}
