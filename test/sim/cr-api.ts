// The regional CR API as the fleet sees it: a latency per attempt, a throttle at Q requests per
// second (a token bucket) answering Throttling.User beyond it, and an outage window in which
// every attempt fails (503). Attempts are what the quota counts: it records each one, by second.
import { ProviderError } from '../../src/errors.ts';
import type { Clock } from '../../src/resilience/clock.ts';

export interface CrApiOptions {
  clock: Clock;
  random: () => number;
  /** Requests per second the API accepts; the bucket holds one second's worth. */
  throttlePerSecond: number;
  outage: { from: number; to: number };
  /** Simulated run length, for the per-second counts. */
  durationMs: number;
}

/** Round trip of one attempt: 20-80 ms (a regional endpoint from a node in the region). */
const latencyMs = (random: () => number): number => 20 + 60 * random();

export class SimulatedCrApi {
  readonly perSecond: Uint32Array;
  attempts = 0;
  throttled = 0;
  failed = 0;
  readonly #o: CrApiOptions;
  #bucket: number;
  #refilledAt = 0;

  constructor(options: CrApiOptions) {
    this.#o = options;
    this.#bucket = options.throttlePerSecond;
    this.perSecond = new Uint32Array(Math.ceil(options.durationMs / 1000) + 1);
  }

  /** One attempt of GetAuthorizationToken: resolves when the token is issued, throws as the real client does. */
  async attempt(): Promise<void> {
    const { clock, outage } = this.#o;
    const at = clock.now();
    this.attempts++;
    const second = Math.floor(at / 1000);
    if (second < this.perSecond.length) this.perSecond[second]!++;
    const admitted = this.#admit(at);
    await clock.sleep(latencyMs(this.#o.random));
    if (at >= outage.from && at < outage.to) {
      this.failed++;
      throw new ProviderError('throttled', 'GetAuthorizationToken failed on the server side (ServiceUnavailable)', { retryable: true });
    }
    if (!admitted) {
      this.throttled++;
      throw new ProviderError('throttled', 'GetAuthorizationToken was throttled (Throttling.User: Request was denied due to user flow control.)', { retryable: true });
    }
  }

  #admit(at: number): boolean {
    const rate = this.#o.throttlePerSecond;
    this.#bucket = Math.min(rate, this.#bucket + ((at - this.#refilledAt) / 1000) * rate);
    this.#refilledAt = at;
    if (this.#bucket < 1) return false;
    this.#bucket -= 1;
    return true;
  }
}
