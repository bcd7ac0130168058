// Go time.Duration text format, both ways. The kubelet reads cacheDuration with
// time.ParseDuration and Go writes durations with Duration.String(); matching
// both exactly keeps our output identical to what a Go plugin would send.
// Arithmetic is done in BigInt nanoseconds, like Go's int64.

const NS_PER_MS = 1_000_000n;
const MAX_DURATION_NS = (1n << 63n) - 1n;

// Exactly Go's Duration.String() for a non-negative number of milliseconds.
// Sub-nanosecond fractions are rounded to the nearest nanosecond.
export function formatGoDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) {
    throw new RangeError(`duration must be a finite non-negative number of milliseconds, got ${String(ms)}`);
  }
  const ns = msToNs(ms);
  if (ns > MAX_DURATION_NS) throw new RangeError('duration exceeds the Go time.Duration range');
  if (ns === 0n) return '0s';
  if (ns < 1_000n) return `${ns}ns`;
  if (ns < 1_000_000n) return `${fmtFrac(ns, 3)}µs`;
  if (ns < 1_000_000_000n) return `${fmtFrac(ns, 6)}ms`;

  const seconds = fmtFrac(ns, 9, 60n);
  const totalMinutes = ns / 1_000_000_000n / 60n;
  if (totalMinutes === 0n) return `${seconds}s`;
  const hours = totalMinutes / 60n;
  const minutes = totalMinutes % 60n;
  return hours === 0n ? `${minutes}m${seconds}s` : `${hours}h${minutes}m${seconds}s`;
}

// Splits v at 10^prec into "int[.frac]" with trailing zeros of the fraction
// dropped (Go's fmtFrac). `wrap` keeps only the integer part modulo wrap.
function fmtFrac(v: bigint, prec: number, wrap?: bigint): string {
  const scale = 10n ** BigInt(prec);
  let int = v / scale;
  if (wrap !== undefined) int %= wrap;
  const frac = (v % scale).toString().padStart(prec, '0').replace(/0+$/, '');
  return frac === '' ? int.toString() : `${int}.${frac}`;
}

function msToNs(ms: number): bigint {
  if (Number.isInteger(ms)) return BigInt(ms) * NS_PER_MS;
  return BigInt(Math.round(ms * 1e6));
}

// Go accepts both MICRO SIGN (U+00B5) and GREEK SMALL LETTER MU (U+03BC).
const UNIT_NS: ReadonlyMap<string, bigint> = new Map([
  ['ns', 1n],
  ['us', 1_000n],
  ['\u00b5s', 1_000n],
  ['\u03bcs', 1_000n],
  ['ms', 1_000_000n],
  ['s', 1_000_000_000n],
  ['m', 60_000_000_000n],
  ['h', 3_600_000_000_000n],
]);

const LIMIT = 1n << 63n;

// Go's time.ParseDuration, returning milliseconds (possibly fractional for
// sub-millisecond values). Grammar: [-+]?([0-9]*(\.[0-9]*)?[a-z]+)+ or "0".
export function parseGoDuration(s: string): number {
  const fail = (why: string): never => {
    throw new Error(`invalid duration ${quote(s)}: ${why}`);
  };
  let rest = s;
  let neg = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    neg = rest[0] === '-';
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') fail('empty');

  let total = 0n;
  while (rest !== '') {
    const m = /^([0-9]*)(?:\.([0-9]*))?/.exec(rest);
    const intDigits = m?.[1] ?? '';
    const fracDigits = m?.[2];
    if (intDigits === '' && (fracDigits === undefined || fracDigits === '')) fail('expected a number');
    rest = rest.slice(m?.[0].length ?? 0);

    // The unit runs up to the next digit or '.', as in Go.
    const unitMatch = /^[^0-9.]*/.exec(rest);
    const unit = unitMatch?.[0] ?? '';
    if (unit === '') fail('missing unit');
    rest = rest.slice(unit.length);
    const unitNs = UNIT_NS.get(unit);
    if (unitNs === undefined) fail(`unknown unit ${quote(unit)}`);
    const perUnit = unitNs as bigint;

    const v = BigInt(intDigits === '' ? '0' : intDigits);
    if (v > LIMIT / perUnit) fail('overflow');
    let part = v * perUnit;
    if (fracDigits !== undefined && fracDigits !== '') {
      // Go keeps at most the fraction digits that fit in a uint64 and scales
      // them in float64; mirror that so rounding matches.
      const { f, scale } = leadingFraction(fracDigits);
      if (f > 0) {
        part += BigInt(Math.trunc(f * (Number(perUnit) / scale)));
        if (part > LIMIT) fail('overflow');
      }
    }
    total += part;
    if (total > LIMIT) fail('overflow');
  }
  if (!neg && total > MAX_DURATION_NS) fail('overflow');
  const ms = Number(total) / 1e6;
  // Avoid returning -0 for "-0s".
  return neg && ms !== 0 ? -ms : ms;
}

function leadingFraction(digits: string): { f: number; scale: number } {
  let x = 0n;
  let scale = 1;
  let overflow = false;
  for (const d of digits) {
    if (overflow) continue;
    if (x > (LIMIT - 1n) / 10n) {
      overflow = true;
      continue;
    }
    const y = x * 10n + BigInt(d);
    if (y > LIMIT) {
      overflow = true;
      continue;
    }
    x = y;
    scale *= 10;
  }
  return { f: Number(x), scale };
}

// Quote for error messages: JSON escaping keeps it on one line, truncation
// keeps a pasted blob from being echoed in full.
function quote(s: string): string {
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
}
