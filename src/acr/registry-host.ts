// Classification of a registry host (the image text before the first '/').
// Only anchored, exact grammars are accepted: a token is fetched for whatever
// this returns, so a look-alike host must never classify as ACR.
//
// Personal Edition (legacy, default instance):
//   registry[-intl][-vpc|-internal].<region>.aliyuncs.com
//   (-internal is the classic-network endpoint; it exists for -intl too.)
// Enterprise Edition system domains:
//   <instance-name>-registry[-vpc].<region>.cr.aliyuncs.com
// Personal Edition exclusive endpoints (instances created since 2024-09-09):
//   crpi-<id>[-vpc].<region>.personal.cr.aliyuncs.com
// Custom domains only through explicit configuration.

export type RegistryTarget =
  | { kind: 'personal'; host: string; region: string; intl: boolean; network: 'public' | 'vpc' | 'internal' }
  | { kind: 'enterprise'; host: string; region: string; instanceName: string; network: 'public' | 'vpc' }
  | { kind: 'personal-dedicated'; host: string; region: string; instanceId: string; network: 'public' | 'vpc' }
  /** region: from the host itself when a built-in ACR host is configured with an instanceId. */
  | { kind: 'custom'; host: string; entryIndex: number; region?: string }
  | { kind: 'unrecognized'; host: string };

// Two letters, then '-'-separated lowercase alphanumeric labels. The fixed
// two-letter start keeps OSS-style names such as "oss-cn-hangzhou" out.
const REGION = /^[a-z]{2}(?:-[a-z0-9]+)+$/;

// 3-30 chars of [a-z0-9-], no leading or trailing '-'.
const INSTANCE_NAME = /^[a-z0-9][a-z0-9-]{1,28}[a-z0-9]$/;

const PERSONAL_LABEL = /^registry(-intl)?(?:-(vpc|internal))?$/;
const DEDICATED_LABEL = /^crpi-([a-z0-9]+)(-vpc)?$/;

const MAX_LABEL = 63;

export function isValidRegionId(region: string): boolean {
  return region.length <= MAX_LABEL && REGION.test(region);
}

export function classifyRegistryHost(
  host: string,
  customRegistries?: ReadonlyArray<{ domains: readonly string[] }>,
): RegistryTarget {
  const lower = asciiLower(host);

  // Explicit configuration wins, including over built-in forms.
  const entryIndex = (customRegistries ?? []).findIndex((entry) =>
    entry.domains.some((domain) => asciiLower(domain) === lower),
  );
  if (entryIndex !== -1) return { kind: 'custom', host, entryIndex };

  // Built-in forms never carry a port; anything outside [a-z0-9.-] (port,
  // userinfo, brackets, non-ASCII) is not one of them.
  if (!/^[a-z0-9.-]+$/.test(lower)) return { kind: 'unrecognized', host };
  const labels = lower.split('.');
  if (labels.some((l) => l === '' || l.length > MAX_LABEL)) return { kind: 'unrecognized', host };

  const [first = '', region = '', ...suffix] = labels;
  if (!isValidRegionId(region)) return { kind: 'unrecognized', host };
  const tail = suffix.join('.');

  if (tail === 'aliyuncs.com') {
    const m = PERSONAL_LABEL.exec(first);
    if (m) {
      const network = m[2] === 'vpc' ? 'vpc' : m[2] === 'internal' ? 'internal' : 'public';
      return { kind: 'personal', host, region, intl: m[1] !== undefined, network };
    }
  } else if (tail === 'cr.aliyuncs.com') {
    // Names may themselves contain "-registry": only the final suffix counts.
    const vpc = first.endsWith('-registry-vpc');
    const suffixLen = vpc ? '-registry-vpc'.length : first.endsWith('-registry') ? '-registry'.length : 0;
    const instanceName = first.slice(0, first.length - suffixLen);
    if (suffixLen > 0 && INSTANCE_NAME.test(instanceName)) {
      return { kind: 'enterprise', host, region, instanceName, network: vpc ? 'vpc' : 'public' };
    }
  } else if (tail === 'personal.cr.aliyuncs.com') {
    const m = DEDICATED_LABEL.exec(first);
    if (m) {
      return { kind: 'personal-dedicated', host, region, instanceId: `crpi-${m[1]}`, network: m[2] ? 'vpc' : 'public' };
    }
  }
  return { kind: 'unrecognized', host };
}

// ASCII-only: Unicode lowering maps e.g. KELVIN SIGN to 'k', which would make
// a different DNS name look like an ACR host.
function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => c.toLowerCase());
}
