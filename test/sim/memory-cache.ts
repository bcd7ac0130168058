// One simulated node's cache: the CacheStore interface (src/cache/store.ts) in memory, with the
// refresh lock as a set of held keys. Processes on a node never die mid-refresh in the
// simulation, so the lock needs no stale takeover.
import type { RefreshLock } from '../../src/cache/refresh-lock.ts';
import type { CacheStore } from '../../src/cache/store.ts';
import type { Clock } from '../../src/resilience/clock.ts';

export class MemoryCache implements CacheStore {
  readonly #clock: Clock;
  readonly #entries = new Map<string, { value: unknown; expire: number }>();
  readonly #served = new Map<string, number>();
  readonly #held = new Set<string>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  async get<T>(key: string, guard: (value: unknown) => value is T): Promise<T | undefined> {
    const e = this.#entries.get(key);
    if (!e || e.expire <= this.#clock.now()) return undefined;
    return guard(e.value) ? e.value : undefined;
  }

  async set(key: string, value: unknown, ttlMs: number): Promise<void> {
    this.#entries.set(key, { value, expire: this.#clock.now() + Math.max(1, Math.round(ttlMs)) });
  }

  async delete(key: string): Promise<void> {
    this.#entries.delete(key);
  }

  refreshLock(key: string): RefreshLock {
    return {
      tryTake: () => {
        if (this.#held.has(key)) return 'held';
        this.#held.add(key);
        return () => void this.#held.delete(key);
      },
    };
  }

  markServed(key: string): void {
    this.#served.set(key, this.#clock.now());
  }

  lastServed(key: string): number | undefined {
    return this.#served.get(key);
  }

  keys(prefix: string): string[] {
    return [...this.#entries.keys()].filter((k) => k.startsWith(prefix));
  }

  close(): void {}

  /** A node replaced by a new one: nothing on its disk. */
  wipe(): void {
    this.#entries.clear();
    this.#served.clear();
  }
}
