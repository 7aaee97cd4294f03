// The ToxicStub handed to one run of a toxic on one link. It owns the run's timers, so stopping
// the run (removal, update, connection closed) cancels them all, and it turns every call into a
// no-op once the run is stopped: a stopped toxic can neither leak a timer nor touch the stream.
import type { Clock, Rng, Timer } from "../../pipeline/core/seam.ts";
import type { Chunk, EndKind, ToxicStub } from "./toxic.ts";

/** The side of a link's toxic slot a running toxic talks to. */
export interface StubOutput {
  forward(chunk: Chunk): void;
  passReceivedEnd(): void;
  passEnd(kind: EndKind): void;
  discard(chunk: Chunk): void;
}

const inertTimer: Timer = { cancel() {} };

export class RunningStub implements ToxicStub {
  private active = true;
  private readonly timers = new Set<Timer>();
  private readonly output: StubOutput;
  private readonly clock: Clock;
  private readonly rng: Rng;

  constructor(output: StubOutput, clock: Clock, rng: Rng) {
    this.output = output;
    this.clock = clock;
    this.rng = rng;
  }

  forward(chunk: Chunk): void {
    if (this.active) this.output.forward(chunk);
  }

  end(): void {
    if (this.active) this.output.passReceivedEnd();
  }

  close(): void {
    if (this.active) this.output.passEnd("close");
  }

  reset(): void {
    if (this.active) this.output.passEnd("reset");
  }

  discard(chunk: Chunk): void {
    if (this.active) this.output.discard(chunk);
  }

  after(ms: number, fn: () => void): Timer {
    if (!this.active) return inertTimer;
    const timer = this.clock.schedule(ms, () => {
      this.timers.delete(timer);
      if (this.active) fn();
    });
    this.timers.add(timer);
    return {
      cancel: () => {
        this.timers.delete(timer);
        timer.cancel();
      },
    };
  }

  now(): number {
    return this.clock.now();
  }

  random(): number {
    return this.rng.next();
  }

  /** Ends this run: cancels its timers and ignores anything the toxic does afterwards. */
  deactivate(): void {
    this.active = false;
    for (const timer of this.timers) timer.cancel();
    this.timers.clear();
  }
}
