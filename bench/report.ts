// `npm run bench -- report`: renders the HTML report of a 10-minute run (docs/reports.md) from a
// journal whose series is built here: 600 one-second buckets, 20 tenants losing events, five
// services' memory, a fault window, and a config published every 10 s. Prints
// `report.render_ms=<n> report.bytes=<n>` (the median of a few renders, the page's size).

import type { Journal } from "../harness/experiment/journal.ts";
import { bucketMsFor, type Buckets, type RunSeries } from "../harness/experiment/series.ts";
import { renderReport } from "../harness/report/html/report.ts";
// The journal around the series is the tests' (every ledger category, one invariant).
import { journalFixture } from "../test/report/series-fixture.ts";

const DURATION_MS = 600_000;
const TENANTS = 20;
const SERVICES = ["edge", "forwarder", "buffer", "pusher", "config"];
const FAULT = { fromMs: 120_000, toMs: 360_000 };
const REPEATS = 5;

function longSeries(): RunSeries {
  const bucketMs = bucketMsFor(DURATION_MS);
  const buckets = Math.ceil(DURATION_MS / bucketMs);
  const inFault = (index: number) =>
    index * bucketMs >= FAULT.fromMs && index * bucketMs < FAULT.toMs;
  const each = (value: (index: number) => number): Buckets =>
    Array.from({ length: buckets }, (_, index) => value(index));
  // Wobble, so that no two neighbouring points are equal and paths keep every point.
  const wobble = (index: number, scale: number) => scale * (1 + 0.1 * Math.sin(index / 3));
  const lost = each((index) => (inFault(index) ? Math.round(wobble(index, 120)) : 0));
  return {
    bucketMs,
    buckets,
    events: {
      produced: each((index) => Math.round(wobble(index, 2_000))),
      acknowledged: each((index) => Math.round(wobble(index, 1_990))),
      rejected: each((index) => index % 7),
      delivered: each((index) => Math.round(wobble(index, 1_990)) - (lost[index] ?? 0)),
      declared: each((index) => (inFault(index) ? 30 + (index % 5) : 0)),
      lost,
      indeterminate: each((index) => index % 3),
    },
    lostByTenant: Object.fromEntries(
      Array.from({ length: TENANTS }, (_, tenant) => [
        `tenant-${String(tenant).padStart(3, "0")}`,
        lost.map((value) => Math.round((value ?? 0) / (tenant + 2))),
      ]),
    ),
    buffer: {
      unit: "bytes",
      held: each((index) => (inFault(index) ? wobble(index, 250_000) : wobble(index, 20_000))),
      buffers: each((index) => (inFault(index) ? 80 : 10 + (index % 4))),
      bound: 196_608,
      buffersBound: 64,
    },
    memory: SERVICES.map((service, position) => ({
      service,
      mb: each((index) => wobble(index, 30 + position)),
      capMb: 64,
    })),
    unhealthy: each(() => 0).map(() => []),
    faults: [{ name: "sink-outage", target: "sink-0", ...FAULT }],
    configs: Array.from({ length: DURATION_MS / 10_000 }, (_, index) => ({
      atMs: index * 10_000,
      kind: "published" as const,
      version: index + 1,
      invalid: null,
    })),
    restarts: SERVICES.map((service) => ({ atMs: 0, service, kind: "started" })),
  };
}

function longJournal(): Journal {
  return journalFixture({
    experiment: "bench-10-minutes",
    description: "a 10-minute run built for the report benchmark",
    endedAt: new Date(DURATION_MS).toISOString(),
    durationMs: DURATION_MS,
    series: longSeries(),
  });
}

export async function benchReport(): Promise<void> {
  const journal = longJournal();
  const timesMs: number[] = [];
  let bytes = 0;
  for (let repeat = 0; repeat < REPEATS; repeat++) {
    const started = performance.now();
    const html = renderReport([journal]);
    timesMs.push(performance.now() - started);
    bytes = Buffer.byteLength(html);
  }
  timesMs.sort((a, b) => a - b);
  const medianMs = timesMs[Math.floor(timesMs.length / 2)]!;
  console.log(
    `10-minute journal (${journal.series!.buckets} buckets, ${TENANTS} tenants, ${SERVICES.length} services): ${REPEATS} renders, fastest ${timesMs[0]!.toFixed(0)} ms`,
  );
  console.log(`report.render_ms=${medianMs.toFixed(0)} report.bytes=${bytes}`);
  await Promise.resolve();
}
