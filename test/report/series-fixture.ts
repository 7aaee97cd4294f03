// A run's time series built in tests (harness/experiment/series.ts): events flow at a steady
// rate, and inside each fault window the buffer climbs past its bound, memory rises and events
// are lost, spread over the tenants named. The shapes are plain arithmetic, so a test knows
// what a chart of it must show.

import type { Journal } from "../../harness/experiment/journal.ts";
import { bucketMsFor, type Buckets, type RunSeries } from "../../harness/experiment/series.ts";
import { CATEGORIES, type Counts, zeroCounts } from "../../harness/ledger/ledger.ts";

export interface SeriesFixtureOptions {
  durationMs: number;
  faults: RunSeries["faults"];
  tenants: string[];
  services?: string[];
  eventsPerSecond?: number;
  /** Default: version 1 published at 1 s, then an invalid (empty) one as the first fault starts. */
  configs?: RunSeries["configs"];
}

export function seriesFixture(options: SeriesFixtureOptions): RunSeries {
  const bucketMs = bucketMsFor(options.durationMs);
  const buckets = Math.ceil(options.durationMs / bucketMs);
  const perBucket = ((options.eventsPerSecond ?? 500) * bucketMs) / 1_000;
  const inFault = (index: number) =>
    options.faults.some(
      (fault) =>
        index * bucketMs >= fault.fromMs && index * bucketMs < (fault.toMs ?? options.durationMs),
    );
  const each = (value: (index: number) => number | null): Buckets =>
    Array.from({ length: buckets }, (_, index) => value(index));
  const lost = each((index) => (inFault(index) ? Math.round(perBucket / 4) : 0));
  const bound = 196_608;
  return {
    bucketMs,
    buckets,
    events: {
      produced: each(() => perBucket),
      acknowledged: each(() => perBucket),
      rejected: each(() => 0),
      delivered: each((index) => perBucket - (lost[index] ?? 0)),
      declared: each(() => 0),
      lost,
      // A gap: a bucket nothing was read in.
      indeterminate: each((index) => (index === 1 ? null : 0)),
    },
    lostByTenant: Object.fromEntries(
      options.tenants.map((tenant, position) => [
        tenant,
        lost.map((value) => (value === null ? null : Math.floor(value / (position + 2)))),
      ]),
    ),
    buffer: {
      unit: "bytes",
      held: each((index) => (inFault(index) ? bound * 1.5 : bound / 10)),
      buffers: each((index) => (inFault(index) ? 80 : 8)),
      bound,
      buffersBound: 64,
    },
    memory: (options.services ?? ["forwarder", "buffer"]).map((service, position) => ({
      service,
      mb: each((index) => (inFault(index) ? 40 + position : 20 + position)),
      capMb: 41.25,
    })),
    unhealthy: each(() => 0).map(() => []),
    faults: options.faults,
    configs: options.configs ?? [
      { atMs: 1_000, kind: "published", version: 1, invalid: null },
      { atMs: 1_200, kind: "applied", version: 1, invalid: null },
      ...options.faults.slice(0, 1).map((fault) => ({
        atMs: fault.fromMs,
        kind: "published" as const,
        version: 2,
        invalid: "config is empty",
      })),
    ],
    restarts: [{ atMs: 0, service: options.services?.[0] ?? "forwarder", kind: "started" }],
  };
}

/** A completed journal with every ledger category a distinct count; `text` goes in its strings. */
export function journalFixture(overrides: Partial<Journal> & { text?: string } = {}): Journal {
  const { text = "t001", ...rest } = overrides;
  const ledger = Object.fromEntries(CATEGORIES.map((category, index) => [category, 1_000 + index]));
  return {
    spillway: { version: "0.1.0" },
    experiment: "tiny",
    description: "a run",
    profile: "legacy-2024",
    flaws: [],
    runtime: "sim",
    seed: 1,
    status: "completed",
    deviated: false,
    asExpected: true,
    startedAt: "2024-11-14T00:00:00.000Z",
    endedAt: "2024-11-14T00:01:00.000Z",
    durationMs: 60_000,
    steps: [{ phase: "method", name: "fault", startedMs: 10_000, endedMs: 10_000, ok: true }],
    notes: [],
    outcomes: [],
    verdict: {
      invariants: {
        "no-silent-loss": {
          name: "no-silent-loss",
          status: "violated",
          summary: `lost at ${text}`,
          evidence: { tenant: text },
        },
      },
      ledger: ledger as Counts,
      ledgerByTenant: { [text]: { ...zeroCounts(), expected: 10, lost: 3 } },
      incidentWindow: null,
      figures: {
        produced: 1,
        acknowledged: 1,
        deliveredShare: 0.5,
        silentLossShare: 0.5,
        bufferHighWaterBytes: 1,
        bufferHighWaterBuffers: 1,
        bufferBoundBytes: 2,
        bufferBoundBuffers: 2,
        eventsPerSecond: 1,
      },
    },
    ...rest,
  };
}
