// The kubelet's keyring lookup (BasicDockerKeyring Add + Lookup, pkg/credentialprovider/keyring.go)
// on top of the product's urlsMatch: tests use it to check that the auth keys of a response
// really apply to the image under the kubelet's rules. The product itself never needs it: it
// keys auth by the exact host of the request.
import { parseHostAndPath, urlsMatch } from '../../src/kubelet/match.ts';

// BasicDockerKeyring Add + Lookup: which auth keys (label = caller's tag for
// the credential) the kubelet would use for `image`, in the order it tries them.
export function keyringLookup(authKeys: Record<string, string>, image: string): string[] {
  const creds = new Map<string, string[]>();
  for (const [loc, label] of Object.entries(authKeys)) {
    // Add: keep an explicit http(s) scheme, default to https, then url.Parse.
    const schemeless = loc.startsWith('https://') ? loc.slice(8) : loc.startsWith('http://') ? loc.slice(7) : loc;
    const parsed = parseHostAndPath(schemeless);
    if (parsed === undefined) continue; // the kubelet logs and drops it
    let path = parsed.path;
    // Docker treats /v1/ and /v2/ as the bare host.
    if (path.startsWith('/v2/') || path.startsWith('/v1/')) path = path.slice(3);
    const key = path !== '' && path !== '/' ? parsed.hostport + path : parsed.hostport;
    creds.set(key, [...(creds.get(key) ?? []), label]);
  }
  // Reverse byte order: longer paths before their prefixes, literals before '*'.
  const index = [...creds.keys()].sort((a, b) => Buffer.compare(Buffer.from(b, 'utf8'), Buffer.from(a, 'utf8')));
  const out: string[] = [];
  for (const key of index) {
    if (urlsMatch(key, image)) out.push(...(creds.get(key) ?? []));
  }
  if (out.length > 0) return out;
  // Docker Hub fallback for unqualified / docker.io images.
  const hub = creds.get('index.docker.io');
  return hub !== undefined && isDefaultRegistryMatch(image) ? [...hub] : [];
}

function isDefaultRegistryMatch(image: string): boolean {
  const slash = image.indexOf('/');
  const first = slash === -1 ? image : image.slice(0, slash);
  if (first === '') return false;
  if (slash === -1) return true;
  if (first === 'docker.io' || first === 'index.docker.io') return true;
  return !/[.:]/.test(first);
}
