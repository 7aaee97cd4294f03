// A simulated disk per service: append-only named files with fsync semantics. Data appended is
// durable once synced; a crash (SIGKILL, power cut) loses everything appended since the last
// sync. What a process of a dead incarnation writes goes nowhere.

import type { Disk } from "../../../pipeline/core/seam.ts";
import { never, type Gate } from "./gate.ts";

export class SimDiskStore {
  private readonly synced = new Map<string, string>();
  private readonly unsynced = new Map<string, string>();
  /** Bytes written and syncs done, for the trace and benchmarks. */
  bytesWritten = 0;
  syncs = 0;

  append(name: string, data: string): void {
    this.bytesWritten += data.length;
    this.unsynced.set(name, (this.unsynced.get(name) ?? "") + data);
  }

  sync(name: string): void {
    this.syncs++;
    const pending = this.unsynced.get(name);
    if (pending === undefined) return;
    this.synced.set(name, (this.synced.get(name) ?? "") + pending);
    this.unsynced.delete(name);
  }

  read(name: string): string | null {
    const synced = this.synced.get(name);
    const pending = this.unsynced.get(name);
    if (synced === undefined && pending === undefined) return null;
    return (synced ?? "") + (pending ?? "");
  }

  list(prefix: string): string[] {
    const names = new Set([...this.synced.keys(), ...this.unsynced.keys()]);
    return [...names].filter((name) => name.startsWith(prefix)).sort();
  }

  remove(name: string): void {
    this.synced.delete(name);
    this.unsynced.delete(name);
  }

  replace(name: string, data: string): void {
    this.bytesWritten += data.length;
    this.unsynced.delete(name);
    this.synced.set(name, data);
  }

  /** What survives a crash: only synced data. */
  crash(): void {
    this.unsynced.clear();
  }

  /** An operator's full reset: nothing survives. */
  wipe(): void {
    this.synced.clear();
    this.unsynced.clear();
  }

  /** A clean exit: the OS keeps what was written, synced or not (the page cache). */
  flush(): void {
    for (const name of [...this.unsynced.keys()]) this.sync(name);
  }

  /** The Disk one incarnation of the process sees; a dead incarnation's calls never return. */
  view(gate: Gate): Disk {
    const guard = <T>(op: () => T): Promise<T> =>
      gate.isAlive() ? Promise.resolve(op()) : never<T>();
    return {
      append: (name, data) => guard(() => this.append(name, data)),
      sync: (name) => guard(() => this.sync(name)),
      read: (name) => guard(() => this.read(name)),
      list: (prefix) => guard(() => this.list(prefix)),
      remove: (name) => guard(() => this.remove(name)),
      replace: (name, data) => guard(() => this.replace(name, data)),
    };
  }
}
