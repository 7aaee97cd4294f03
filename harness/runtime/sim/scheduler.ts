// Virtual time for the simulator (docs/architecture.md §2, after TigerBeetle's VOPR and
// FoundationDB's simulation): one timer queue, one thread, no wall clock. The loop lets every
// promise chain settle (a macrotask turn drains the microtask queue), then jumps to the earliest
// timer and fires every timer due at that instant, in the order they were scheduled. Nothing else
// advances time, so one seed gives one run, byte for byte.

import type { Clock, Timer } from "../../../pipeline/core/seam.ts";

interface Entry {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** The simulated epoch: 14 November 2024, 00:00 UTC. */
export const SIM_EPOCH_MS = Date.UTC(2024, 10, 14);

export class SimulationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SimulationError";
  }
}

export interface RunLimits {
  /** Most virtual time the run may take (a runaway run is an error, not a hang). */
  maxVirtualMs: number;
}

// Between two instants every promise continuation the last one set off must have run. Node runs
// process.nextTick callbacks only once the microtask queue is empty, so a tick is the cheapest
// wait for that (a setImmediate costs a turn of the event loop, which was a fifth of a run).
// Every MACROTASK_EVERY instants the loop yields a real turn anyway, so a long run does not
// starve timers, I/O and signals of the process it runs in; both waits drain the same work, so
// the choice never changes what the run does.
const MACROTASK_EVERY = 256;
const afterMicrotasks = (): Promise<void> => new Promise((resolve) => process.nextTick(resolve));
const yieldToMacrotask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class Scheduler {
  private nowMs: number;
  private seq = 0;
  private readonly heap: Entry[] = [];
  private failure: unknown = undefined;
  /** Waits on the world outside the simulation (a person); virtual time stands still meanwhile. */
  private readonly outside = new Set<Promise<void>>();
  /** Timer callbacks fired so far (a figure for benchmarks). */
  fired = 0;
  /** One line per traced happening, when tracing is on. */
  readonly trace: string[] | null;

  constructor(options: { epochMs?: number; trace?: boolean } = {}) {
    this.nowMs = options.epochMs ?? SIM_EPOCH_MS;
    this.trace = options.trace === true ? [] : null;
  }

  now(): number {
    return this.nowMs;
  }

  /** Records a line in the trace (when on), stamped with the virtual time. */
  record(line: string): void {
    this.trace?.push(`${this.nowMs - SIM_EPOCH_MS} ${line}`);
  }

  schedule(ms: number, fn: () => void): Timer {
    const entry: Entry = {
      at: this.nowMs + Math.max(0, Number.isFinite(ms) ? ms : 0),
      seq: this.seq++,
      fn,
      cancelled: false,
    };
    this.push(entry);
    return {
      cancel: () => {
        entry.cancelled = true;
      },
    };
  }

  /** A Clock over this scheduler; `wrap` lets a caller gate what fires (a paused process). */
  clock(wrap: (fn: () => void) => () => void = (fn) => fn): Clock {
    return {
      now: () => this.nowMs,
      sleep: (ms) => new Promise((resolve) => void this.schedule(ms, wrap(resolve))),
      schedule: (ms, fn) => this.schedule(ms, wrap(fn)),
    };
  }

  /**
   * Waits for `outside`, something of the real world (a facilitator pressing Enter), with
   * virtual time standing still: no timer fires until it settles, so the run is the one it
   * would have been without the wait.
   */
  hold<T>(outside: Promise<T>): Promise<T> {
    const settled = outside.then(
      () => undefined,
      () => undefined,
    );
    this.outside.add(settled);
    void settled.then(() => this.outside.delete(settled));
    return outside;
  }

  /** Stops the run at the next turn with `error` (a broken invariant of the simulator itself). */
  fail(error: unknown): void {
    this.failure ??= error;
  }

  /**
   * Runs `main` to completion under virtual time. Rejects when `main` rejects, when nothing is
   * scheduled while `main` still waits (a deadlock), or past `maxVirtualMs`.
   */
  async run<T>(main: () => Promise<T>, limits: RunLimits): Promise<T> {
    const startMs = this.nowMs;
    let outcome: { value: T } | { error: unknown } | null = null;
    main().then(
      (value) => void (outcome = { value }),
      (error: unknown) => void (outcome = { error }),
    );
    for (let turn = 1; ; turn++) {
      await (turn % MACROTASK_EVERY === 0 ? yieldToMacrotask() : afterMicrotasks());
      if (this.failure !== undefined) throw this.failure;
      if (outcome !== null) break;
      if (this.outside.size > 0) {
        await Promise.race(this.outside);
        continue;
      }
      const entry = this.pop();
      if (entry === undefined) {
        throw new SimulationError(
          `the simulation stalled at ${this.nowMs - startMs} ms: nothing is scheduled and the run has not finished`,
        );
      }
      if (entry.at - startMs > limits.maxVirtualMs) {
        throw new SimulationError(
          `the simulation ran past its limit of ${limits.maxVirtualMs} ms of virtual time`,
        );
      }
      this.nowMs = entry.at;
      this.fire(entry);
      // Every other timer due at the same instant fires in the same turn, in scheduling order.
      for (let next = this.peek(); next !== undefined && next.at === entry.at; next = this.peek()) {
        this.pop();
        this.fire(next);
      }
    }
    const settled = outcome as { value: T } | { error: unknown };
    if ("error" in settled) throw settled.error;
    return settled.value;
  }

  private fire(entry: Entry): void {
    this.fired++;
    try {
      entry.fn();
    } catch (error) {
      this.fail(error);
    }
  }

  /** The earliest live timer, discarding cancelled ones on the way. */
  private peek(): Entry | undefined {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) this.removeTop();
    return this.heap[0];
  }

  private pop(): Entry | undefined {
    const top = this.peek();
    if (top !== undefined) this.removeTop();
    return top;
  }

  private static before(a: Entry, b: Entry): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(entry: Entry): void {
    const heap = this.heap;
    heap.push(entry);
    let index = heap.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!Scheduler.before(entry, heap[parent]!)) break;
      heap[index] = heap[parent]!;
      index = parent;
    }
    heap[index] = entry;
  }

  private removeTop(): void {
    const heap = this.heap;
    const last = heap.pop()!;
    if (heap.length === 0) return;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child =
        right < heap.length && Scheduler.before(heap[right]!, heap[left]!) ? right : left;
      if (!Scheduler.before(heap[child]!, last)) break;
      heap[index] = heap[child]!;
      index = child;
    }
    heap[index] = last;
  }
}
