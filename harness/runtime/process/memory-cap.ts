// The memory cap of a service on processes (docs/architecture.md §4): its memory polled from
// outside while a cap is set, and the service ended once it is over.

const MIB = 1024 * 1024;

export interface MemoryCapWatch {
  intervalMs: number;
  /** The cap now; undefined while there is none. */
  capMb(): number | undefined;
  /** The service's memory now, undefined once it is gone. */
  readBytes(): Promise<number | undefined>;
  /** Whether the service is no longer this watch's to end (it exited, or is being stopped). */
  over(): boolean;
  /** Called once the memory is above the cap, with both figures. */
  exceeded(rssMb: number, capMb: number): void;
}

/** Polls until cleared; one reading at a time, so that a slow /proc never piles reads up. */
export function watchMemoryCap(watch: MemoryCapWatch): NodeJS.Timeout {
  let reading = false;
  const timer = setInterval(() => {
    const capMb = watch.capMb();
    if (capMb === undefined || reading || watch.over()) return;
    reading = true;
    // A failed reading is no reading: the next tick tries again.
    void watch
      .readBytes()
      .catch(() => undefined)
      .then((bytes) => {
        reading = false;
        if (bytes === undefined || bytes <= capMb * MIB || watch.over()) return;
        // Rounded up, so that the figure reported is above the cap as the memory was.
        watch.exceeded(Math.ceil((bytes / MIB) * 10) / 10, capMb);
      });
  }, watch.intervalMs);
  timer.unref();
  return timer;
}
