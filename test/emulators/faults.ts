// Fault injection: a queue of one-shot (or n-shot) misbehaviours that the emulators consult
// before handling a request. A fault matches by server, key (action, path prefix or '*') and,
// optionally, region; the first matching entry in insertion order wins.

export interface FaultSpec {
  /** How many matching requests this fault applies to. Default 1; Infinity allowed. */
  times?: number;
  /** Answer with this HTTP status (with `code`/`message` in the server's error shape). */
  status?: number;
  code?: string;
  message?: string;
  /** Answer like the real throttler (CR: 400 Throttling.User; IMDS: 429). */
  throttle?: boolean;
  /** CR only: HTTP 200 with IsSuccess:false and this code. */
  isSuccessFalse?: { code: string; message?: string };
  /** HTTP 200 with a truncated JSON body. */
  malformedJson?: boolean;
  /** Destroy the socket instead of answering. */
  resetConnection?: boolean;
  /** Wait this long first (then apply the rest of the fault, or answer normally). */
  delayMs?: number;
  /**
   * HTTP 200 with a JSON body this many bytes long, streamed until the client hangs up;
   * `bytesSent` is called with what the client accepted before that.
   */
  oversizedBody?: { bytes: number; bytesSent?: (bytes: number) => void };
}

export type ServerKind = 'imds' | 'cr' | 'sts' | 'registry';

interface QueuedFault {
  server: ServerKind;
  key: string;
  region: string | undefined;
  spec: FaultSpec;
  remaining: number;
}

export class FaultQueue {
  #queue: QueuedFault[] = [];

  add(server: ServerKind, key: string, spec: FaultSpec, region?: string): void {
    const times = spec.times ?? 1;
    if (!(times > 0)) throw new RangeError(`fault.times must be > 0, got ${times}`);
    this.#queue.push({ server, key, region, spec, remaining: times });
  }

  /**
   * Consumes one use of the first fault whose key satisfies `matches` (and whose region, when
   * set, equals `region`). Returns undefined when no fault applies.
   */
  take(server: ServerKind, matches: (key: string) => boolean, region?: string): FaultSpec | undefined {
    const entry = this.#queue.find((f) => f.server === server && (f.region === undefined || f.region === region) && matches(f.key));
    if (!entry) return undefined;
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.#queue = this.#queue.filter((f) => f !== entry);
    return entry.spec;
  }

  /** Faults still waiting (for assertions like "all injected faults fired"). */
  pending(server?: ServerKind): number {
    return this.#queue.filter((f) => server === undefined || f.server === server).length;
  }

  clear(): void {
    this.#queue = [];
  }
}
