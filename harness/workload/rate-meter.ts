// Live rates for the progress line: counters sampled at each production tick, a rate read as
// the change over the last window. Bounded: samples closer together than a sixteenth of the
// window are skipped, so the meter holds a few dozen at most.

const WINDOW_MS = 1_000;
const MIN_SAMPLE_GAP_MS = WINDOW_MS / 16;

export type RateCounter = "produced" | "acked";

interface Sample {
  at: number;
  produced: number;
  acked: number;
}

export class RateMeter {
  private readonly samples: Sample[] = [];

  sample(at: number, produced: number, acked: number): void {
    const last = this.samples.at(-1);
    if (last !== undefined && at - last.at < MIN_SAMPLE_GAP_MS) return;
    this.samples.push({ at, produced, acked });
    // Keep one sample at or before the window's start, to measure the whole window.
    while (this.samples.length > 2 && (this.samples[1] as Sample).at <= at - WINDOW_MS) {
      this.samples.shift();
    }
  }

  /** Per second, from the oldest sample within about a window of `now` to `current`. */
  perSecond(counter: RateCounter, now: number, current: number): number {
    const since = this.samples.find((sample) => sample.at >= now - WINDOW_MS * 2);
    if (since === undefined || now <= since.at) return 0;
    return ((current - since[counter]) * 1000) / (now - since.at);
  }
}
