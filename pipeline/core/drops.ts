// Declared drops: events a component gave up on with a reason the customer can see. Served
// on /drops?cursor=N as records with stream, seq ranges and reason; the ledger counts them
// as `declared`, never as `lost`.

import type { EventId } from "./event.ts";
import { streamKey } from "./event.ts";

export interface StreamRanges {
  tenant: string;
  dataset: string;
  producer: string;
  /** Inclusive [from, to] seq ranges, ascending and disjoint. */
  ranges: Array<[number, number]>;
}

export interface DropRecord {
  /** Position in this component's drop log; `/drops?cursor=N` returns records with id ≥ N. */
  id: number;
  at: number;
  component: string;
  reason: string;
  count: number;
  streams: StreamRanges[];
}

/** Groups event identities by stream into sorted inclusive seq ranges. */
export function toStreamRanges(ids: Iterable<EventId>): StreamRanges[] {
  const byStream = new Map<string, { id: EventId; seqs: number[] }>();
  for (const id of ids) {
    const key = streamKey(id);
    let entry = byStream.get(key);
    if (entry === undefined) {
      entry = { id, seqs: [] };
      byStream.set(key, entry);
    }
    entry.seqs.push(id.seq);
  }
  const streams: StreamRanges[] = [];
  for (const { id, seqs } of byStream.values()) {
    seqs.sort((a, b) => a - b);
    const ranges: Array<[number, number]> = [];
    for (const seq of seqs) {
      const last = ranges[ranges.length - 1];
      if (last !== undefined && seq <= last[1] + 1) last[1] = Math.max(last[1], seq);
      else ranges.push([seq, seq]);
    }
    streams.push({ tenant: id.tenant, dataset: id.dataset, producer: id.producer, ranges });
  }
  return streams;
}

export class DropLog {
  private readonly records: DropRecord[] = [];
  private firstId = 0;
  private nextId = 0;
  private readonly component: string;
  private readonly capacity: number;

  constructor(component: string, capacity: number) {
    this.component = component;
    this.capacity = capacity;
  }

  declare(at: number, reason: string, ids: readonly EventId[]): DropRecord | undefined {
    if (ids.length === 0) return undefined;
    const record: DropRecord = {
      id: this.nextId++,
      at,
      component: this.component,
      reason,
      count: ids.length,
      streams: toStreamRanges(ids),
    };
    this.records.push(record);
    if (this.records.length > this.capacity) {
      this.records.shift();
      this.firstId++;
    }
    return record;
  }

  /** Records with id ≥ cursor (at most `max`), the next cursor, and how many were evicted. */
  since(cursor: number, max: number): { records: DropRecord[]; next: number; evicted: number } {
    const start = Math.max(0, cursor - this.firstId);
    const records = this.records.slice(start, start + max);
    const next =
      records.length > 0 ? records[records.length - 1]!.id + 1 : Math.max(cursor, this.firstId);
    return { records, next, evicted: Math.max(0, this.firstId - cursor) };
  }

  get total(): number {
    return this.nextId;
  }
}
