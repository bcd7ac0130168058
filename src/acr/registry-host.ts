// Classification of a registry host (the image text before the first '/'). Only anchored, exact
// grammars are accepted: a token is fetched for whatever this returns, so a look-alike host must
// never classify as ACR. The built-in forms are the rows of host-forms.ts, each
// "<first label>.<region>.<domain>"; each may carry ":443", the HTTPS port spelled out: the same
// registry (the returned host keeps the port, so the kubelet gets auth keyed by exactly what the
// image says). Any other port is not ACR. Custom domains only through explicit configuration.
import { isValidRegionId } from '../region-id.ts';
import { HOST_FORMS } from './host-forms.ts';

export type RegistryTarget =
  | { kind: 'personal'; host: string; region: string; intl: boolean; network: 'public' | 'vpc' | 'internal' }
  | { kind: 'enterprise'; host: string; region: string; instanceName: string; network: 'public' | 'vpc' }
  | { kind: 'personal-dedicated'; host: string; region: string; instanceId: string; network: 'public' | 'vpc' }
  /** region: from the host itself when a built-in ACR host is configured with an instanceId. */
  | { kind: 'custom'; host: string; entryIndex: number; region?: string }
  | { kind: 'unrecognized'; host: string };

const MAX_LABEL = 63;
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

  const [first = '', region = '', ...domain] = labels;
  if (!isValidRegionId(region)) return { kind: 'unrecognized', host };
  const tail = domain.join('.');
  const form = Object.values(HOST_FORMS).find((f) => f.domain === tail);
  return form?.parse(first, host, region) ?? { kind: 'unrecognized', host };
}

// ASCII-only: Unicode lowering maps e.g. KELVIN SIGN to 'k', which would make
// a different DNS name look like an ACR host.
function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => c.toLowerCase());
}
