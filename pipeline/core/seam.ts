// The determinism seam (docs/architecture.md §2). Component logic receives these interfaces and
// nothing else from the outside world; pipeline/host supplies real implementations and the
// simulator supplies virtual ones. A lint rule (eslint.config.js) keeps the logic folders honest.

/** A cancellable pending timer. */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the Unix epoch (virtual under the simulator). */
  now(): number;
  /** Resolves after `ms` milliseconds; never rejects. */
  sleep(ms: number): Promise<void>;
  /** Runs `fn` once after `ms` milliseconds unless cancelled. */
  schedule(ms: number, fn: () => void): Timer;
}

export interface Rng {
  /** A float in [0, 1). */
  next(): number;
}

/** An HTTP-shaped message exchanged between components. Bodies are UTF-8 text (JSON/NDJSON). */
export interface HttpRequest {
  method: string;
  /** Path without the query string, e.g. `/buffers/append`. */
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: string;
}

export interface HttpResponse {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

/** What a component exposes to its host: one request handler. */
export type Handler = (request: HttpRequest) => Promise<HttpResponse>;

export interface OutgoingRequest {
  method: string;
  /** Absolute URL, e.g. `http://127.0.0.1:4100/append`. */
  url: string;
  headers?: Record<string, string>;
  body?: string;
  /** The request fails with `NetError('timeout')` when no full response arrived in time. */
  timeoutMs: number;
}

export type NetFailure = "timeout" | "refused" | "reset" | "unreachable";

/** A transport failure: the request may or may not have reached the peer. */
export class NetError extends Error {
  readonly failure: NetFailure;
  constructor(failure: NetFailure, detail: string) {
    // A transport failure is an expected outcome, often thousands of times a run under the
    // simulator; its message says all there is, so skip the stack capture, which costs more
    // than the rest of the request.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(`${failure}: ${detail}`);
    Error.stackTraceLimit = limit;
    this.name = "NetError";
    this.failure = failure;
  }
}

export interface Net {
  /** Sends one request; rejects with NetError on transport failure, resolves on any status. */
  request(request: OutgoingRequest): Promise<HttpResponse>;
}

/**
 * Append-only named files with explicit durability: data appended is durable only once `sync`
 * resolves; a crash may lose anything appended after the last sync (the simulator does).
 */
export interface Disk {
  append(name: string, data: string): Promise<void>;
  sync(name: string): Promise<void>;
  /** Whole file as text, or null when it does not exist. */
  read(name: string): Promise<string | null>;
  /** Names of the files that start with `prefix`, sorted. */
  list(prefix: string): Promise<string[]>;
  remove(name: string): Promise<void>;
  /** Replaces a file atomically with `data`, durably. */
  replace(name: string, data: string): Promise<void>;
}

/** Structured log sink; the host writes JSON lines, the simulator records a trace. */
export interface Log {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Everything a component may use from the outside world. */
export interface Seam {
  clock: Clock;
  rng: Rng;
  net: Net;
  disk: Disk;
  log: Log;
}
