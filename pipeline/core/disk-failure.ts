// What a component does when its disk fails (docs/architecture.md §2): it keeps the first disk
// error, refuses from then on whatever it would have to make durable (503 naming the error),
// and reports unhealthy, until a restart recovers from what the disk holds. It does not retry:
// after a failed fsync the kernel may have dropped the dirty pages, so a later fsync can succeed
// without them (PostgreSQL's "fsyncgate", 2018), and a failed append may have left a torn
// record that recovery would stop at, losing whatever was appended after it.

import { Unavailable } from "./http.ts";
import type { Log } from "./seam.ts";

export class DiskFailure {
  private readonly log: Log;
  private first: string | null = null;

  constructor(log: Log) {
    this.log = log;
  }

  /** The first disk error, as "<operation>: <error>", or null while the disk works. */
  get reason(): string | null {
    return this.first;
  }

  /** Throws Unavailable (503) once the disk has failed. */
  check(): void {
    if (this.first !== null) {
      throw new Unavailable(`disk failed (${this.first}); nothing is accepted until a restart`);
    }
  }

  /** Runs a disk operation a request waits for; a failure is kept and thrown as Unavailable. */
  async run<T>(operation: string, work: () => Promise<T>): Promise<T> {
    this.check();
    try {
      return await work();
    } catch (error) {
      this.record(operation, error);
      this.check();
      throw error;
    }
  }

  /** Runs a disk operation in the background: a failure is kept and logged, never thrown. */
  async attempt(operation: string, work: () => Promise<unknown>): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.record(operation, error);
    }
  }

  private record(operation: string, error: unknown): void {
    if (this.first !== null) return;
    const message = error instanceof Error ? error.message : String(error);
    this.first = `${operation}: ${message}`;
    this.log.error("disk failed; refusing what needs it until restarted", { operation, message });
  }
}
