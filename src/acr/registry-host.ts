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
// Each may carry ":443", the HTTPS port spelled out: the same registry (the returned host keeps the
// port, so the kubelet gets auth keyed by exactly what the image says). Any other port is not ACR.
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

const HTTPS_PORT = ':443';

export function classifyRegistryHost(
  host: string,
  customRegistries?: ReadonlyArray<{ domains: readonly string[] }>,
): RegistryTarget {
  // Explicit configuration wins, including over built-in forms. A built-in host and its :443
  // spelling are one registry: an entry for either governs both, or the port would be a way
  // around the entry's policy (namespaces, identity).
  const wanted = entryMatchKey(host);
  const entryIndex = (customRegistries ?? []).findIndex((entry) => entry.domains.some((domain) => entryMatchKey(domain) === wanted));
  if (entryIndex !== -1) return { kind: 'custom', host, entryIndex };
  return classifyBuiltin(host);
}

/** Lower-cased, and without :443 when what remains is a built-in form. */
function entryMatchKey(host: string): string {
  const lower = asciiLower(host);
  if (!lower.endsWith(HTTPS_PORT)) return lower;
  const bare = lower.slice(0, -HTTPS_PORT.length);
  return classifyBuiltin(bare).kind === 'unrecognized' ? lower : bare;
}

function classifyBuiltin(host: string): RegistryTarget {
  let lower = asciiLower(host);
  if (lower.endsWith(HTTPS_PORT)) lower = lower.slice(0, -HTTPS_PORT.length);

  // Built-in forms carry no other port; anything outside [a-z0-9.-] (another port,
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
