// The run's time series, carried in the journal (`journal.series`) for reports (docs/reports.md):
// what a person wants to see of a run over time — events produced, acknowledged, delivered,
// declared and lost (by when they were produced), loss per tenant, the buffer against its
// bounds, each service's memory against its cap, health, the fault windows, configs published
// and applied, restarts and kills. Buckets are a second each, coarsened for long runs so that a
// journal stays small: never more than SERIES_BUCKETS_MAX per series.

/** The most buckets a series holds; a longer run gets wider buckets (2 s, 5 s, 10 s...). */
export const SERIES_BUCKETS_MAX = 3_600;
/** The narrowest bucket. */
export const SERIES_BUCKET_MS_MIN = 1_000;
/** Tenants whose loss is charted one by one (most loss first); the rest are summed as "other". */
export const SERIES_TENANTS_MAX = 20;

/** One value per bucket; null where nothing was read in that bucket (a gap, not a zero). */
export type Buckets = Array<number | null>;

export interface RunSeries {
  /** Width of every bucket, in ms; bucket i covers [i × bucketMs, (i + 1) × bucketMs) of the run. */
  bucketMs: number;
  /** How many buckets each series below has. */
  buckets: number;
  /** Events by the bucket they were produced in (so a loss shows where the events came from). */
  events: {
    produced: Buckets;
    acknowledged: Buckets;
    rejected: Buckets;
    delivered: Buckets;
    declared: Buckets;
    lost: Buckets;
    indeterminate: Buckets;
  };
  /** Lost events by production bucket, per tenant (the SERIES_TENANTS_MAX with most loss). */
  lostByTenant: Record<string, Buckets>;
  /** The buffer (the reference pipeline) or the backlog measured from outside (a target). */
  buffer: {
    /** What `bytes` counts: buffered bytes, or owed events on a target. */
    unit: "bytes" | "events";
    /** The highest reading in each bucket. */
    held: Buckets;
    /** Buffers (per tenant-dataset pair) held, highest per bucket; null on a target. */
    buffers: Buckets | null;
    /** The bound `held` is judged against (null: none declared). */
    bound: number | null;
    buffersBound: number | null;
  };
  /** Each service's memory in MB, highest reading per bucket, and its cap or bound. */
  memory: Array<{ service: string; mb: Buckets; capMb: number | null }>;
  /** Per bucket, the services seen unhealthy in it (empty: all healthy; absent: no reading). */
  unhealthy: Array<string[] | null>;
  /** Each fault from injection to heal, in ms since the run started (to: null, never healed). */
  faults: Array<{ name: string; target: string | null; fromMs: number; toMs: number | null }>;
  /** Configs the harness read (published) and the forwarder reported applying, when. */
  configs: Array<{
    atMs: number;
    kind: "published" | "applied";
    version: number | null;
    /** Why the harness judged it invalid, if it did. */
    invalid: string | null;
  }>;
  /** Processes started, killed, exited or killed by a memory cap, when, and which. */
  restarts: Array<{ atMs: number; service: string; kind: string }>;
}

/** The bucket width for a run of `durationMs`: 1 s, or the first of 2, 5, 10, 30, 60 s... that fits. */
export function bucketMsFor(durationMs: number): number {
  const widths = [
    SERIES_BUCKET_MS_MIN,
    2_000,
    5_000,
    10_000,
    30_000,
    60_000,
    300_000,
    600_000,
    3_600_000,
  ];
  for (const width of widths)
    if (Math.ceil(Math.max(durationMs, 1) / width) <= SERIES_BUCKETS_MAX) return width;
  return Math.ceil(durationMs / SERIES_BUCKETS_MAX / 3_600_000) * 3_600_000;
}
