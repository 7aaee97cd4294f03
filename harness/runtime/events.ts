// A bounded record of runtime events with listeners, shared by the runtimes.

import type { RuntimeEvent } from "./runtime.ts";

export const MAX_EVENTS = 10_000;

export class EventLog {
  private readonly recorded: RuntimeEvent[] = [];
  private readonly listeners = new Set<(event: RuntimeEvent) => void>();
  private readonly capacity: number;

  constructor(capacity = MAX_EVENTS) {
    this.capacity = capacity;
  }

  record(event: RuntimeEvent): void {
    this.recorded.push(event);
    if (this.recorded.length > this.capacity) this.recorded.shift();
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A failing listener must not stop the runtime from recording what happened.
      }
    }
  }

  list(): readonly RuntimeEvent[] {
    return [...this.recorded];
  }

  subscribe(listener: (event: RuntimeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
