// Counts over time, in fixed-width buckets: what a report plots (rates, with fault windows
// shaded) and what tells when acknowledgements stopped or resumed. Bounded: past
// MAX_TIMELINE_BUCKETS the buckets are merged pairwise and their width doubles.

import { z } from "zod";

export const MAX_TIMELINE_BUCKETS = 10_000;

export const TIMELINE_FIELDS = ["produced", "acked", "rejected", "unknown", "retries"] as const;
export type TimelineField = (typeof TIMELINE_FIELDS)[number];
const FIELD_COUNT = TIMELINE_FIELDS.length;
const FIELD_INDEX: Record<TimelineField, number> = {
  produced: 0,
  acked: 1,
  rejected: 2,
  unknown: 3,
  retries: 4,
};

export interface TimelineJson {
  origin: number;
  bucketMs: number;
  fields: TimelineField[];
  /** [bucket start (ms), ...one count per field] */
  buckets: number[][];
}

const count = z.number().int().min(0);
export const timelineJsonSchema = z.object({
  origin: z.number(),
  bucketMs: z.number().int().positive(),
  fields: z.tuple([
    z.literal("produced"),
    z.literal("acked"),
    z.literal("rejected"),
    z.literal("unknown"),
    z.literal("retries"),
  ]),
  buckets: z.array(z.tuple([z.number(), count, count, count, count, count])),
});

export class Timeline {
  private origin: number;
  private width: number;
  /** FIELD_COUNT counts per bucket, bucket i covering [origin + i·width, origin + (i+1)·width). */
  private counts: number[] = [];

  constructor(origin: number, bucketMs: number) {
    this.origin = origin;
    this.width = bucketMs;
  }

  get bucketMs(): number {
    return this.width;
  }

  /** Restarts the timeline at `origin`, dropping what it held (the workload's start). */
  reset(origin: number): void {
    this.origin = origin;
    this.counts = [];
  }

  count(field: TimelineField, at: number, amount: number): void {
    let bucket = Math.max(0, Math.floor((at - this.origin) / this.width));
    while (bucket >= MAX_TIMELINE_BUCKETS) {
      this.coarsen();
      bucket = Math.floor(bucket / 2);
    }
    while (this.counts.length < (bucket + 1) * FIELD_COUNT) this.counts.push(0);
    this.counts[bucket * FIELD_COUNT + FIELD_INDEX[field]] =
      (this.counts[bucket * FIELD_COUNT + FIELD_INDEX[field]] as number) + amount;
  }

  /** Total of one field over the buckets that start in [from, to). */
  sum(field: TimelineField, from: number, to: number): number {
    let total = 0;
    for (let bucket = 0; bucket * FIELD_COUNT < this.counts.length; bucket++) {
      const start = this.origin + bucket * this.width;
      if (start >= from && start < to) {
        total += this.counts[bucket * FIELD_COUNT + FIELD_INDEX[field]] as number;
      }
    }
    return total;
  }

  toJSON(): TimelineJson {
    const buckets: number[][] = [];
    for (let bucket = 0; bucket * FIELD_COUNT < this.counts.length; bucket++) {
      const offset = bucket * FIELD_COUNT;
      buckets.push([
        this.origin + bucket * this.width,
        ...this.counts.slice(offset, offset + FIELD_COUNT),
      ]);
    }
    return { origin: this.origin, bucketMs: this.width, fields: [...TIMELINE_FIELDS], buckets };
  }

  static fromJSON(json: TimelineJson): Timeline {
    const timeline = new Timeline(json.origin, json.bucketMs);
    for (const [start, ...counts] of json.buckets) {
      TIMELINE_FIELDS.forEach((field, index) => {
        timeline.count(field, start as number, counts[index] as number);
      });
    }
    return timeline;
  }

  private coarsen(): void {
    const merged: number[] = [];
    for (let offset = 0; offset < this.counts.length; offset += 2 * FIELD_COUNT) {
      for (let field = 0; field < FIELD_COUNT; field++) {
        merged.push(
          (this.counts[offset + field] as number) +
            (this.counts[offset + FIELD_COUNT + field] ?? 0),
        );
      }
    }
    this.counts = merged;
    this.width *= 2;
  }
}
