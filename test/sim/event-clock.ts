// Discrete-event virtual time for the fleet simulation. Every actor (a kubelet call, a node's
// pre-warm loop) runs the real async code and waits only on this clock's sleep; the clock fires
// the earliest timer, lets the woken code run until every live actor is asleep again (or done),
// and only then moves on. Nothing here touches the wall clock, so hours pass in seconds and a
// run is reproducible.
import type { Clock } from '../../src/resilience/clock.ts';

interface Timer {
  at: number;
  seq: number;
  resolve: () => void;
  done: boolean;
  signal: AbortSignal | undefined;
}

/** Microtask turns allowed for woken code to settle before it counts as stuck. */
const MAX_TURNS = 1_000_000;

export class EventClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #heap: Timer[] = [];
  #live = 0;
  #sleeping = 0;
  /** One abort listener per signal (thousands of actors sleep on the same one). */
  readonly #bySignal = new WeakMap<AbortSignal, Set<Timer>>();
  /** Timers fired so far (the simulation's work measure). */
  events = 0;

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const timer: Timer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, resolve, done: false, signal };
      this.#sleeping++;
      if (signal) this.#timersOf(signal).add(timer);
      this.#push(timer);
    });
  }

  /** Runs `work` as an actor: the clock waits for it whenever it is not asleep. */
  spawn(work: () => Promise<void>): void {
    this.#live++;
    work()
      .catch((error: unknown) => {
        throw new Error(`a simulated actor failed: ${String(error)}`, { cause: error });
      })
      .finally(() => this.#live--);
  }

  /** Fires timers in order up to `until` (inclusive), then sets the time to `until`. */
  async runUntil(until: number): Promise<void> {
    await this.#settle();
    while (this.#heap.length > 0 && this.#heap[0]!.at <= until) {
      const timer = this.#pop();
      if (timer.done) continue;
      timer.done = true;
      if (timer.signal) this.#bySignal.get(timer.signal)?.delete(timer);
      this.#now = timer.at;
      this.#sleeping--;
      this.events++;
      timer.resolve();
      await this.#settle();
    }
    this.#now = Math.max(this.#now, until);
  }

  #timersOf(signal: AbortSignal): Set<Timer> {
    let timers = this.#bySignal.get(signal);
    if (!timers) {
      const set = new Set<Timer>();
      timers = set;
      this.#bySignal.set(signal, set);
      signal.addEventListener(
        'abort',
        () => {
          for (const timer of set) {
            timer.done = true;
            this.#sleeping--;
            timer.resolve();
          }
          set.clear();
        },
        { once: true },
      );
    }
    return timers;
  }

  /** Lets woken code run until every live actor sleeps again. */
  async #settle(): Promise<void> {
    for (let turns = 0; this.#sleeping < this.#live; turns++) {
      if (turns > MAX_TURNS) throw new Error(`simulation stuck: ${this.#live} actors live, ${this.#sleeping} asleep at t=${this.#now}`);
      await null;
    }
  }

  #push(timer: Timer): void {
    const heap = this.#heap;
    heap.push(timer);
    for (let i = heap.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  #pop(): Timer {
    const heap = this.#heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && before(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && before(heap[r]!, heap[m]!)) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m]!, heap[i]!];
        i = m;
      }
    }
    return top;
  }
}

function before(a: Timer, b: Timer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
