// Exhaustiveness for switches over a union's `kind`: a new variant that some switch does not
// handle is a type error there, and at run time (a value from outside the types) an internal error.
import { ProviderError } from './errors.ts';

export function assertNever(value: never, what = 'value'): never {
  const kind = typeof value === 'object' && value !== null && 'kind' in value ? String((value as { kind: unknown }).kind) : String(value);
  throw new ProviderError('internal', `unhandled ${what}: ${kind}`);
}
