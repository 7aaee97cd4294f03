// An append-only file with group commit: concurrent callers of `appendDurably` share one
// write and one fsync, and each resolves only after the fsync that covers its data. It stops at
// the first failed write or fsync: every append after it fails with the same error, since a
// record written after a torn one would be lost on recovery although acknowledged
// (pipeline/core/disk-failure.ts).

import type { Disk } from "./seam.ts";

interface Pending {
  data: string;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class DurableLog {
  private readonly disk: Disk;
  private name: string;
  private queue: Pending[] = [];
  private flushing: Promise<void> | null = null;
  private unsyncedAppends = "";
  private failure: { error: unknown } | null = null;
  /** Bytes written to the current file (as UTF-16 length; a cheap proxy for size). */
  size = 0;

  constructor(disk: Disk, name: string) {
    this.disk = disk;
    this.name = name;
  }

  get fileName(): string {
    return this.name;
  }

  /** Switches to another file; later appends go there (used to roll WAL segments). */
  async rollTo(name: string): Promise<void> {
    await this.drain();
    this.name = name;
    this.size = 0;
  }

  /** Resolves once `data` is written and fsynced. */
  appendDurably(data: string): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure.error);
    return new Promise((resolve, reject) => {
      this.queue.push({ data, resolve, reject });
      if (this.flushing === null) this.flushing = this.flushLoop();
    });
  }

  /** Writes `data` without waiting for durability; the next durable append or sync covers it. */
  appendLazily(data: string): void {
    this.unsyncedAppends += data;
  }

  /** Writes and fsyncs everything appended so far. */
  async sync(): Promise<void> {
    if (this.queue.length === 0 && this.unsyncedAppends.length === 0) {
      await this.drain();
      return;
    }
    await this.appendDurably("");
  }

  private async drain(): Promise<void> {
    while (this.flushing !== null) await this.flushing;
  }

  private async flushLoop(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      let text = this.unsyncedAppends;
      this.unsyncedAppends = "";
      for (const pending of batch) text += pending.data;
      try {
        if (text.length > 0) await this.disk.append(this.name, text);
        await this.disk.sync(this.name);
        this.size += text.length;
        for (const pending of batch) pending.resolve();
      } catch (error) {
        this.failure = { error };
        for (const pending of [...batch, ...this.queue]) pending.reject(error);
        this.queue = [];
      }
    }
    this.flushing = null;
  }
}
