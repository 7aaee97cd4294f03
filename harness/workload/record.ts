// What the workload produced and what became of it, per stream (tenant, dataset, producer):
// the produced seqs (always 0..produced-1, dense), the acknowledged, rejected and unknown
// interval sets, and when each seq was produced, as runs of seqs with the time span they were
// produced in. The ledger reads this to decide which events were expected (an enabled job
// covered their (tenant, dataset) when they were produced); the journal stores it as JSON.

import { z } from "zod";
import { IntervalSet } from "../ledger/interval-set.ts";
import { NAME_PATTERN, streamKey } from "../../pipeline/core/event.ts";
import { Timeline, timelineJsonSchema, type TimelineJson } from "./timeline.ts";

/** What became of a batch once its attempts are over. */
export type BatchOutcome = "acked" | "rejected" | "unknown";

/** Seqs `seqFrom..seqTo` of one stream were produced between `firstAt` and `lastAt` (ms). */
export interface ProductionRun {
  seqFrom: number;
  seqTo: number;
  firstAt: number;
  lastAt: number;
}

export interface StreamJson {
  tenant: string;
  dataset: string;
  producer: string;
  /** Seqs 0..produced-1 were produced. */
  produced: number;
  acked: [number, number][];
  rejected: [number, number][];
  unknown: [number, number][];
  /** [seqFrom, seqTo, firstAt, lastAt] */
  runs: [number, number, number, number][];
}

export interface OutcomeCounts {
  produced: number;
  acked: number;
  rejected: number;
  unknown: number;
  /** Produced and sent, outcome not known yet (0 once the workload has stopped). */
  inFlight: number;
}

export interface WorkloadRecordJson {
  version: 1;
  startedAt: number | null;
  stoppedAt: number | null;
  jobTenants: string[];
  totals: OutcomeCounts;
  streams: StreamJson[];
  timeline: TimelineJson;
}

/** Fields per production run in StreamRecord's flat array: seqFrom, firstAt, lastAt. */
const RUN_FIELDS = 3;

export class StreamRecord {
  readonly tenant: string;
  readonly dataset: string;
  readonly producer: string;
  readonly key: string;
  readonly acked = new IntervalSet();
  readonly rejected = new IntervalSet();
  readonly unknown = new IntervalSet();
  private producedCount = 0;
  /** Flat runs; a run ends where the next begins, the last one at producedCount - 1. */
  private readonly runs: number[] = [];

  constructor(tenant: string, dataset: string, producer: string) {
    this.tenant = tenant;
    this.dataset = dataset;
    this.producer = producer;
    this.key = streamKey({ tenant, dataset, producer });
  }

  /** How many events were produced: seqs 0..produced-1. */
  get produced(): number {
    return this.producedCount;
  }

  /** Seq of the next event of this stream. */
  get nextSeq(): number {
    return this.producedCount;
  }

  producedSet(): IntervalSet {
    return IntervalSet.range(0, this.producedCount - 1);
  }

  /** Sent, but with no outcome yet. */
  inFlight(): IntervalSet {
    return this.producedSet()
      .difference(this.acked)
      .difference(this.rejected)
      .difference(this.unknown);
  }

  /**
   * Claims the next `count` seqs, produced at `at`; returns the first. Extends the last run
   * while it spans less than `runMs`, so that a steady stream costs one run per `runMs`.
   */
  produce(count: number, at: number, runMs: number): number {
    const seqFrom = this.producedCount;
    const last = this.runs.length - RUN_FIELDS;
    if (last >= 0 && at - (this.runs[last + 1] as number) < runMs) {
      this.runs[last + 2] = at;
    } else {
      this.runs.push(seqFrom, at, at);
    }
    this.producedCount += count;
    return seqFrom;
  }

  /**
   * Records the outcome of seqs that were produced and have no outcome yet. With `at`, the
   * production runs holding them are stretched to end no earlier than `at`: a batch retried
   * until then was in the pipeline's hands until then, and whether a job covered its events is
   * decided over that whole span (a job added meanwhile makes them indeterminate).
   */
  settle(outcome: BatchOutcome, seqFrom: number, seqTo: number, at?: number): void {
    const settled = this.outcomesWithin(seqFrom, seqTo);
    if (seqTo >= this.producedCount || settled !== 0) {
      throw new Error(
        `${this.key}: seqs ${seqFrom}..${seqTo} settled as ${outcome}, but ${settled} already have an outcome (produced ${this.producedCount})`,
      );
    }
    this[outcome].addRange(seqFrom, seqTo);
    if (at !== undefined) this.stretchRuns(seqFrom, seqTo, at);
  }

  /** How many of seqs seqFrom..seqTo have an outcome (acked, rejected or unknown). */
  outcomesWithin(seqFrom: number, seqTo: number): number {
    return (
      this.acked.countWithin(seqFrom, seqTo) +
      this.rejected.countWithin(seqFrom, seqTo) +
      this.unknown.countWithin(seqFrom, seqTo)
    );
  }

  private stretchRuns(seqFrom: number, seqTo: number, at: number): void {
    let low = 0;
    let high = this.runs.length / RUN_FIELDS - 1;
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      if ((this.runs[middle * RUN_FIELDS] as number) <= seqFrom) low = middle;
      else high = middle - 1;
    }
    for (let i = low * RUN_FIELDS; i < this.runs.length; i += RUN_FIELDS) {
      if ((this.runs[i] as number) > seqTo) break;
      if ((this.runs[i + 2] as number) < at) this.runs[i + 2] = at;
    }
  }

  /** How many production runs there are; the last one may still grow. */
  get runCount(): number {
    return this.runs.length / RUN_FIELDS;
  }

  /** Production run `index` (0-based, below runCount), oldest first. */
  runAt(index: number): ProductionRun {
    const i = index * RUN_FIELDS;
    const next = this.runs[i + RUN_FIELDS];
    return {
      seqFrom: this.runs[i] as number,
      seqTo: (next ?? this.producedCount) - 1,
      firstAt: this.runs[i + 1] as number,
      lastAt: this.runs[i + 2] as number,
    };
  }

  forEachRun(visit: (run: ProductionRun) => void): void {
    for (let index = 0; index < this.runCount; index++) visit(this.runAt(index));
  }

  productionRuns(): ProductionRun[] {
    const runs: ProductionRun[] = [];
    this.forEachRun((run) => runs.push(run));
    return runs;
  }

  /** The span of time in which `seq` was produced, or undefined if it was not produced. */
  producedAt(seq: number): { firstAt: number; lastAt: number } | undefined {
    if (!Number.isSafeInteger(seq) || seq < 0 || seq >= this.producedCount) return undefined;
    let low = 0;
    let high = this.runs.length / RUN_FIELDS - 1;
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      if ((this.runs[middle * RUN_FIELDS] as number) <= seq) low = middle;
      else high = middle - 1;
    }
    return {
      firstAt: this.runs[low * RUN_FIELDS + 1] as number,
      lastAt: this.runs[low * RUN_FIELDS + 2] as number,
    };
  }

  counts(): OutcomeCounts {
    const settled = this.acked.size + this.rejected.size + this.unknown.size;
    return {
      produced: this.producedCount,
      acked: this.acked.size,
      rejected: this.rejected.size,
      unknown: this.unknown.size,
      inFlight: this.producedCount - settled,
    };
  }

  toJSON(): StreamJson {
    return {
      tenant: this.tenant,
      dataset: this.dataset,
      producer: this.producer,
      produced: this.producedCount,
      acked: this.acked.toJSON(),
      rejected: this.rejected.toJSON(),
      unknown: this.unknown.toJSON(),
      runs: this.productionRuns().map((run) => [run.seqFrom, run.seqTo, run.firstAt, run.lastAt]),
    };
  }

  static fromJSON(json: StreamJson, where: string): StreamRecord {
    const stream = new StreamRecord(json.tenant, json.dataset, json.producer);
    let expectedFrom = 0;
    json.runs.forEach(([seqFrom, seqTo, firstAt, lastAt], index) => {
      if (seqFrom !== expectedFrom || seqTo < seqFrom || lastAt < firstAt) {
        throw new TypeError(
          `${where}.runs[${index}] is ${JSON.stringify([seqFrom, seqTo, firstAt, lastAt])}, expected [${expectedFrom}, seqTo >= seqFrom, firstAt, lastAt >= firstAt]`,
        );
      }
      stream.runs.push(seqFrom, firstAt, lastAt);
      expectedFrom = seqTo + 1;
    });
    if (expectedFrom !== json.produced) {
      throw new TypeError(
        `${where}.runs cover seqs 0..${expectedFrom - 1}, expected 0..${json.produced - 1} (produced ${json.produced})`,
      );
    }
    stream.producedCount = json.produced;
    for (const outcome of ["acked", "rejected", "unknown"] as const) {
      stream[outcome].addAll(IntervalSet.fromJSON(json[outcome], `${where}.${outcome}`));
      const beyond = stream[outcome].max();
      if (beyond !== undefined && beyond >= json.produced) {
        throw new TypeError(`${where}.${outcome} holds seq ${beyond}, never produced`);
      }
    }
    return stream;
  }
}

const nameSchema = z.string().regex(NAME_PATTERN);
const count = z.number().int().min(0);
const rangesSchema = z.array(z.tuple([count, count]));
const streamJsonSchema = z.object({
  tenant: nameSchema,
  dataset: nameSchema,
  producer: nameSchema,
  produced: count,
  acked: rangesSchema,
  rejected: rangesSchema,
  unknown: rangesSchema,
  runs: z.array(z.tuple([count, count, z.number(), z.number()])),
});
const recordJsonSchema = z.object({
  version: z.literal(1),
  startedAt: z.number().nullable(),
  stoppedAt: z.number().nullable(),
  jobTenants: z.array(nameSchema),
  streams: z.array(streamJsonSchema),
  timeline: timelineJsonSchema,
});

/** Every stream of one workload run, plus its timeline of counts. */
export class WorkloadRecord {
  startedAt: number | null = null;
  stoppedAt: number | null = null;
  readonly jobTenants: readonly string[];
  readonly timeline: Timeline;
  private readonly byKey = new Map<string, StreamRecord>();

  constructor(jobTenants: readonly string[], timeline: Timeline) {
    this.jobTenants = jobTenants;
    this.timeline = timeline;
  }

  /** Streams in the order they first produced. */
  streams(): IterableIterator<StreamRecord> {
    return this.byKey.values();
  }

  stream(tenant: string, dataset: string, producer: string): StreamRecord | undefined {
    return this.byKey.get(streamKey({ tenant, dataset, producer }));
  }

  /** The stream's record, created on first use. */
  streamFor(tenant: string, dataset: string, producer: string): StreamRecord {
    const key = streamKey({ tenant, dataset, producer });
    let stream = this.byKey.get(key);
    if (stream === undefined) {
      stream = new StreamRecord(tenant, dataset, producer);
      this.byKey.set(key, stream);
    }
    return stream;
  }

  totals(): OutcomeCounts {
    const totals: OutcomeCounts = { produced: 0, acked: 0, rejected: 0, unknown: 0, inFlight: 0 };
    for (const stream of this.byKey.values()) {
      const counts = stream.counts();
      totals.produced += counts.produced;
      totals.acked += counts.acked;
      totals.rejected += counts.rejected;
      totals.unknown += counts.unknown;
      totals.inFlight += counts.inFlight;
    }
    return totals;
  }

  toJSON(): WorkloadRecordJson {
    return {
      version: 1,
      startedAt: this.startedAt,
      stoppedAt: this.stoppedAt,
      jobTenants: [...this.jobTenants],
      totals: this.totals(),
      streams: [...this.byKey.values()].map((stream) => stream.toJSON()),
      timeline: this.timeline.toJSON(),
    };
  }

  /** Reads a record written by toJSON; throws naming the first field that is wrong. */
  static fromJSON(value: unknown, where = "record"): WorkloadRecord {
    const parsed = recordJsonSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const path = [where, ...(issue?.path ?? []).map(String)].join(".");
      throw new TypeError(`${path}: ${issue?.message ?? "invalid"}`);
    }
    const json = parsed.data;
    const record = new WorkloadRecord(json.jobTenants, Timeline.fromJSON(json.timeline));
    record.startedAt = json.startedAt;
    record.stoppedAt = json.stoppedAt;
    json.streams.forEach((streamJson, index) => {
      const stream = StreamRecord.fromJSON(streamJson, `${where}.streams[${index}]`);
      if (record.byKey.has(stream.key)) {
        throw new TypeError(`${where}.streams[${index}] repeats stream ${stream.key}`);
      }
      record.byKey.set(stream.key, stream);
    });
    return record;
  }
}
