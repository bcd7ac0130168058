// The kubelet's image matching (pkg/credentialprovider/keyring.go), used for
// both provider matchImages and response auth keys. Reimplemented exactly so
// `doctor` can tell whether the kubelet would route an image to us (the
// keyring lookup built on it, for tests, is test/helpers/kubelet-keyring.ts).
// Go works on bytes, so the glob and URL code below does too.

export interface SchemelessUrl {
  host: string; // hostname without port (brackets removed for IPv6)
  port: string; // '' when absent
  path: string; // percent-decoded, as Go's url.URL.Path
}

// ParseSchemelessURL: url.Parse("https://" + s), then net.SplitHostPort.
// Returns undefined where Go's url.Parse would fail.
export function parseSchemelessUrl(s: string): SchemelessUrl | undefined {
  const parts = parseHostAndPath(s);
  if (parts === undefined) return undefined;
  const split = splitHostPort(parts.hostport);
  return { host: split?.host ?? parts.hostport, port: split?.port ?? '', path: parts.path };
}

// URLsMatchStr: port equal both ways, same label count, string-prefix path,
// per-label filepath.Match. Case-sensitive. A bad pattern never matches.
export function urlsMatch(glob: string, target: string): boolean {
  const g = parseSchemelessUrl(glob);
  const t = parseSchemelessUrl(target);
  if (g === undefined || t === undefined) return false;
  if (g.port !== t.port) return false;
  const gLabels = g.host.split('.');
  const tLabels = t.host.split('.');
  if (gLabels.length !== tLabels.length) return false;
  if (!t.path.startsWith(g.path)) return false;
  return gLabels.every((label, i) => matchBytes(utf8(label), utf8(tLabels[i] ?? '')) === true);
}

// ---- net/url subset ----------------------------------------------------------

// Host (with port, percent-decoded) and path of url.Parse("https://" + s).
export function parseHostAndPath(s: string): { hostport: string; path: string } | undefined {
  const hash = s.indexOf('#');
  const beforeHash = hash === -1 ? s : s.slice(0, hash);
  if (hash !== -1 && unescape(s.slice(hash + 1), 'other') === undefined) return undefined;
  if (/[\x00-\x1f\x7f]/.test(beforeHash)) return undefined;
  const q = beforeHash.indexOf('?');
  const rest = q === -1 ? beforeHash : beforeHash.slice(0, q);
  const slash = rest.indexOf('/');
  const authority = slash === -1 ? rest : rest.slice(0, slash);
  const rawPath = slash === -1 ? '' : rest.slice(slash);

  let hostPart = authority;
  const at = authority.lastIndexOf('@');
  if (at !== -1) {
    const userinfo = authority.slice(0, at);
    if (!/^[A-Za-z0-9\-._:~!$&'()*+,;=%@]*$/.test(userinfo)) return undefined;
    if (unescape(userinfo, 'other') === undefined) return undefined;
    hostPart = authority.slice(at + 1);
  }
  const hostport = parseHost(hostPart);
  const path = unescape(rawPath, 'other');
  if (hostport === undefined || path === undefined) return undefined;
  return { hostport, path };
}

function parseHost(host: string): string | undefined {
  if (host.startsWith('[')) {
    const close = host.lastIndexOf(']');
    if (close === -1 || !validOptionalPort(host.slice(close + 1))) return undefined;
    const zone = host.slice(0, close).indexOf('%25');
    const literal = zone === -1 ? host.slice(1, close) : host.slice(1, zone);
    // Recent Go accepts only IPv6 addresses inside brackets.
    if (!/^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*$/.test(literal)) return undefined;
    if (zone === -1) return unescape(host, 'host');
    const h1 = unescape(host.slice(0, zone), 'host');
    const h2 = unescape(host.slice(zone, close), 'other');
    const h3 = unescape(host.slice(close), 'host');
    return h1 === undefined || h2 === undefined || h3 === undefined ? undefined : h1 + h2 + h3;
  }
  const colon = host.lastIndexOf(':');
  if (colon !== -1 && !validOptionalPort(host.slice(colon))) return undefined;
  return unescape(host, 'host');
}

function validOptionalPort(p: string): boolean {
  return p === '' || /^:[0-9]*$/.test(p);
}

// ASCII bytes Go's shouldEscape(c, encodeHost) lets through unescaped.
const HOST_SAFE = /^[A-Za-z0-9!$&'()*+,;=:[\]<>"\-_.~]$/;

// Go's url.unescape: validates %XX and, in a host, allowed characters and
// that %-escapes are only used for non-ASCII bytes (or %25).
function unescape(s: string, mode: 'host' | 'other'): string | undefined {
  const bytes = utf8(s);
  const out: number[] = [];
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i] as number;
    if (b === 0x25) {
      const h1 = hexVal(bytes[i + 1]);
      const h2 = hexVal(bytes[i + 2]);
      if (h1 === undefined || h2 === undefined) return undefined;
      if (mode === 'host' && h1 < 8 && !(h1 === 2 && h2 === 5)) return undefined;
      out.push(h1 * 16 + h2);
      i += 3;
      continue;
    }
    if (mode === 'host' && b < 0x80 && !HOST_SAFE.test(String.fromCharCode(b))) return undefined;
    out.push(b);
    i += 1;
  }
  return Buffer.from(out).toString('utf8');
}

function hexVal(b: number | undefined): number | undefined {
  if (b === undefined) return undefined;
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x61 && b <= 0x66) return b - 0x61 + 10;
  if (b >= 0x41 && b <= 0x46) return b - 0x41 + 10;
  return undefined;
}

// net.SplitHostPort; undefined on error (the caller then keeps the whole host).
function splitHostPort(hp: string): { host: string; port: string } | undefined {
  const i = hp.lastIndexOf(':');
  if (i === -1) return undefined;
  let host: string;
  let j = 0;
  let k = 0;
  if (hp.startsWith('[')) {
    const end = hp.indexOf(']');
    if (end === -1 || end + 1 !== i) return undefined;
    host = hp.slice(1, end);
    j = 1;
    k = end + 1;
  } else {
    host = hp.slice(0, i);
    if (host.includes(':')) return undefined;
  }
  if (hp.slice(j).includes('[') || hp.slice(k).includes(']')) return undefined;
  return { host, port: hp.slice(i + 1) };
}

// ---- path/filepath.Match (Unix separator) -------------------------------------

const SEP = 0x2f; // '/'
const BACKSLASH = 0x5c;
const RUNE_ERROR = 0xfffd;

function utf8(s: string): Uint8Array {
  return Buffer.from(s, 'utf8');
}

// Go's filepath.Match on Unix: true / false, or 'bad' for ErrBadPattern
// (which the kubelet treats as no match).
export function filepathMatch(pattern: string, name: string): boolean | 'bad' {
  return matchBytes(utf8(pattern), utf8(name));
}

function matchBytes(pattern: Uint8Array, name: Uint8Array): boolean | 'bad' {
  let p = 0;
  let n = 0;
  pattern: while (p < pattern.length) {
    const { star, chunkEnd, chunkStart } = scanChunk(pattern, p);
    p = chunkEnd;
    const chunk = pattern.subarray(chunkStart, chunkEnd);
    if (star && chunk.length === 0) {
      // Trailing * matches the rest unless it contains a separator.
      return !name.subarray(n).includes(SEP);
    }
    const r = matchChunk(chunk, name.subarray(n));
    if (r !== 'bad' && r.ok && (r.rest === 0 || p < pattern.length)) {
      n = name.length - r.rest;
      continue;
    }
    if (r === 'bad') return 'bad';
    if (star) {
      for (let i = n; i < name.length && name[i] !== SEP; i++) {
        const t = matchChunk(chunk, name.subarray(i + 1));
        if (t !== 'bad' && t.ok) {
          if (p >= pattern.length && t.rest > 0) continue;
          n = name.length - t.rest;
          continue pattern;
        }
        if (t === 'bad') return 'bad';
      }
    }
    // Report a malformed remainder even when the match already failed.
    while (p < pattern.length) {
      const c = scanChunk(pattern, p);
      p = c.chunkEnd;
      if (matchChunk(pattern.subarray(c.chunkStart, c.chunkEnd), new Uint8Array()) === 'bad') return 'bad';
    }
    return false;
  }
  return n === name.length;
}

function scanChunk(pattern: Uint8Array, from: number): { star: boolean; chunkStart: number; chunkEnd: number } {
  let p = from;
  let star = false;
  while (p < pattern.length && pattern[p] === 0x2a) {
    p++;
    star = true;
  }
  let inRange = false;
  let i = p;
  scan: for (; i < pattern.length; i++) {
    switch (pattern[i]) {
      case BACKSLASH:
        if (i + 1 < pattern.length) i++;
        break;
      case 0x5b: // [
        inRange = true;
        break;
      case 0x5d: // ]
        inRange = false;
        break;
      case 0x2a: // *
        if (!inRange) break scan;
        break;
    }
  }
  return { star, chunkStart: p, chunkEnd: i };
}

// Matches chunk at the start of s; rest = number of unconsumed bytes of s.
function matchChunk(chunk: Uint8Array, s: Uint8Array): { ok: boolean; rest: number } | 'bad' {
  let c = 0;
  let i = 0;
  let failed = false;
  while (c < chunk.length) {
    if (!failed && i >= s.length) failed = true;
    const ch = chunk[c] as number;
    if (ch === 0x5b) {
      let r = 0;
      if (!failed) {
        const [rune, size] = decodeRune(s, i);
        r = rune;
        i += size;
      }
      c++;
      let negated = false;
      if (c < chunk.length && chunk[c] === 0x5e) {
        negated = true;
        c++;
      }
      let match = false;
      let nrange = 0;
      for (;;) {
        if (c < chunk.length && chunk[c] === 0x5d && nrange > 0) {
          c++;
          break;
        }
        const lo = getEsc(chunk, c);
        if (lo === 'bad') return 'bad';
        c = lo.next;
        let hi = lo.rune;
        if (chunk[c] === 0x2d) {
          const h = getEsc(chunk, c + 1);
          if (h === 'bad') return 'bad';
          c = h.next;
          hi = h.rune;
        }
        if (lo.rune <= r && r <= hi) match = true;
        nrange++;
      }
      if (match === negated) failed = true;
    } else if (ch === 0x3f) {
      if (!failed) {
        if (s[i] === SEP) failed = true;
        i += decodeRune(s, i)[1];
      }
      c++;
    } else {
      if (ch === BACKSLASH) {
        c++;
        if (c >= chunk.length) return 'bad';
      }
      if (!failed) {
        if (chunk[c] !== s[i]) failed = true;
        i++;
      }
      c++;
    }
  }
  return failed ? { ok: false, rest: 0 } : { ok: true, rest: s.length - i };
}

function getEsc(chunk: Uint8Array, at: number): { rune: number; next: number } | 'bad' {
  let c = at;
  const first = chunk[c];
  if (first === undefined || first === 0x2d || first === 0x5d) return 'bad';
  if (first === BACKSLASH) {
    c++;
    if (c >= chunk.length) return 'bad';
  }
  const [rune, size] = decodeRune(chunk, c);
  if (rune === RUNE_ERROR && size === 1) return 'bad';
  const next = c + size;
  if (next >= chunk.length) return 'bad';
  return { rune, next };
}

// utf8.DecodeRune: [RuneError, 1] for invalid input, [RuneError, 0] at the end.
function decodeRune(b: Uint8Array, i: number): [number, number] {
  const b0 = b[i];
  if (b0 === undefined) return [RUNE_ERROR, 0];
  if (b0 < 0x80) return [b0, 1];
  const cont = (k: number, lo = 0x80, hi = 0xbf): number => {
    const x = b[i + k];
    return x !== undefined && x >= lo && x <= hi ? x & 0x3f : -1;
  };
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    const c1 = cont(1);
    return c1 < 0 ? [RUNE_ERROR, 1] : [((b0 & 0x1f) << 6) | c1, 2];
  }
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const c1 = cont(1, b0 === 0xe0 ? 0xa0 : 0x80, b0 === 0xed ? 0x9f : 0xbf);
    const c2 = c1 < 0 ? -1 : cont(2);
    return c2 < 0 ? [RUNE_ERROR, 1] : [((b0 & 0x0f) << 12) | (c1 << 6) | c2, 3];
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const c1 = cont(1, b0 === 0xf0 ? 0x90 : 0x80, b0 === 0xf4 ? 0x8f : 0xbf);
    const c2 = c1 < 0 ? -1 : cont(2);
    const c3 = c2 < 0 ? -1 : cont(3);
    return c3 < 0 ? [RUNE_ERROR, 1] : [((b0 & 0x07) << 18) | (c1 << 12) | (c2 << 6) | c3, 4];
  }
  return [RUNE_ERROR, 1];
}
