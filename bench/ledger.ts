// `npm run bench -- ledger`: settles 10 million events in the ledger. The input is shaped like a
// long incident run: 4,000 streams (1,000 tenants × 2 datasets × 2 producers) producing
// 50-event batches every 2 s for 100 s, some refused or left unknown at ingress; jobs added,
// disabled and moved between sinks mid-run, some pairs never configured; the sinks' records as
// a pusher writes them (a few producer batches each), with batches lost, declared dropped,
// delivered twice or sent to the wrong sink.
//
// The measurement runs in a child process capped at 256 MB of V8 heap, so that the peak is the
// ledger's and the bound is enforced, not just observed. Prints the figures and ends with
// `ledger.events_per_s=<n> ledger.peak_mb=<n>` (events per second of computeLedger, the
// child's peak resident memory in MB, input included).

import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { DropRecord, StreamRanges } from "../pipeline/core/drops.ts";
import { seededRng } from "../pipeline/core/seeded-rng.ts";
import { IntervalSet } from "../harness/ledger/interval-set.ts";
import {
  computeLedger,
  jobSpans,
  type LedgerDelivery,
  type LedgerInput,
  type LedgerReport,
  type LedgerStream,
} from "../harness/ledger/ledger.ts";

const TENANTS = 1_000;
const DATASETS = ["http_requests", "firewall_events"];
const PRODUCERS = ["edge-0", "edge-1"];
const SINKS = 4;
const BATCH_EVENTS = 50;
const BATCHES_PER_STREAM = 50;
const BATCH_INTERVAL_MS = 2_000;
const RUN_MS = 100;
const HEAP_LIMIT_MB = 256;
const REPEATS = 3;
const EVENTS = TENANTS * DATASETS.length * PRODUCERS.length * BATCHES_PER_STREAM * BATCH_EVENTS;

/** What became of one producer batch, drawn once per batch. */
type BatchFate = "delivered" | "lost" | "declared" | "duplicated" | "misdelivered";

interface Pair {
  tenant: string;
  dataset: string;
  destinationAt(at: number): string | null;
}

function pairsAndJobs(): {
  pairs: Pair[];
  changes: Parameters<typeof jobSpans>[0];
} {
  const pairs: Pair[] = [];
  const changes: Parameters<typeof jobSpans>[0] = [];
  for (let t = 0; t < TENANTS; t++) {
    for (const dataset of DATASETS) {
      const index = pairs.length;
      const tenant = `t${String(t).padStart(4, "0")}`;
      const home = `sink-${index % SINKS}/${tenant}.${dataset}`;
      const moved = `sink-${(index + 1) % SINKS}/${tenant}.${dataset}`;
      const change = (at: number, destination: string, enabled: boolean) =>
        changes.push({ at, tenant, dataset, destination, enabled });
      // One pair in ten never has a job, one is added at 30 s, one in twenty is disabled at
      // 70 s, one in fifty moves to another sink at 50 s; the rest are configured throughout.
      let destinationAt: Pair["destinationAt"] = () => home;
      if (index % 10 === 0) destinationAt = () => null;
      else if (index % 10 === 1) {
        change(30_000, home, true);
        destinationAt = (at) => (at >= 30_000 ? home : null);
      } else {
        change(0, home, true);
        if (index % 20 === 2) {
          change(70_000, home, false);
          destinationAt = (at) => (at < 70_000 ? home : null);
        } else if (index % 50 === 3) {
          change(50_000, moved, true);
          destinationAt = (at) => (at < 50_000 ? home : moved);
        }
      }
      pairs.push({ tenant, dataset, destinationAt });
    }
  }
  return { pairs, changes };
}

function drawFate(draw: number): BatchFate {
  if (draw < 0.002) return "lost";
  if (draw < 0.004) return "declared";
  if (draw < 0.009) return "duplicated";
  if (draw < 0.0092) return "misdelivered";
  return "delivered";
}

/** A realistic 10M-event ledger input, deterministic. */
export function buildLedgerInput(): LedgerInput {
  const rng = seededRng(14_11_2024);
  const { pairs, changes } = pairsAndJobs();
  const streams: LedgerStream[] = [];
  const recordsBySink: LedgerDelivery[][] = Array.from({ length: SINKS }, () => []);
  const drops: DropRecord[] = [];
  const pushRecord = (destination: string, entries: StreamRanges[]) => {
    const sink = Number(destination.slice("sink-".length, destination.indexOf("/")));
    recordsBySink[sink]!.push({ destination, streams: entries });
  };

  for (let pairIndex = 0; pairIndex < pairs.length; pairIndex++) {
    const pair = pairs[pairIndex]!;
    const pairStreams = PRODUCERS.map((producer) => {
      const stream: LedgerStream = {
        tenant: pair.tenant,
        dataset: pair.dataset,
        producer,
        produced: IntervalSet.range(0, BATCHES_PER_STREAM * BATCH_EVENTS - 1),
        acked: new IntervalSet(),
        rejected: new IntervalSet(),
        unknown: new IntervalSet(),
        runs: [],
      };
      streams.push(stream);
      return stream;
    });
    // The pusher takes 2..8 batches of the pair at a time (both producers) into one sink record.
    let pending: StreamRanges[] = [];
    let pendingBatches = 0;
    let recordSize = 2 + Math.floor(rng.next() * 7);
    let repeatLater: StreamRanges | null = null;
    for (let batch = 0; batch < BATCHES_PER_STREAM; batch++) {
      for (let producerIndex = 0; producerIndex < pairStreams.length; producerIndex++) {
        const stream = pairStreams[producerIndex]!;
        const seqFrom = batch * BATCH_EVENTS;
        const seqTo = seqFrom + BATCH_EVENTS - 1;
        const at = batch * BATCH_INTERVAL_MS + ((pairIndex * 37 + producerIndex * 11) % 1_000);
        stream.runs.push({ seqFrom, seqTo, firstAt: at, lastAt: at + RUN_MS - 1 });
        const ingress = rng.next();
        if (ingress < 0.01) {
          stream.rejected.addRange(seqFrom, seqTo);
          continue;
        }
        if (ingress < 0.03) stream.unknown.addRange(seqFrom, seqTo);
        else stream.acked.addRange(seqFrom, seqTo);
        const destination = pair.destinationAt(at);
        if (destination === null || (ingress < 0.03 && ingress > 0.02)) continue;
        const ranges: StreamRanges = {
          tenant: pair.tenant,
          dataset: pair.dataset,
          producer: stream.producer,
          ranges: [[seqFrom, seqTo]],
        };
        const fate = drawFate(rng.next());
        if (fate === "lost") continue;
        if (fate === "declared") {
          drops.push({
            id: drops.length,
            at,
            component: "pusher",
            reason: `destination ${destination} refused the batch: 400`,
            count: BATCH_EVENTS,
            streams: [ranges],
          });
          continue;
        }
        if (fate === "misdelivered") {
          pushRecord(`sink-${(pairIndex + 2) % SINKS}/t0000.${pair.dataset}`, [ranges]);
          continue;
        }
        pending.push(ranges);
        pendingBatches++;
        if (fate === "duplicated") repeatLater = ranges;
        if (pendingBatches >= recordSize) {
          if (repeatLater !== null && repeatLater !== ranges) pending.push(repeatLater);
          repeatLater = fate === "duplicated" ? ranges : null;
          pushRecord(destination, pending);
          pending = [];
          pendingBatches = 0;
          recordSize = 2 + Math.floor(rng.next() * 7);
        }
      }
    }
    const last = pair.destinationAt(BATCHES_PER_STREAM * BATCH_INTERVAL_MS);
    if (pending.length > 0 && last !== null) pushRecord(last, pending);
  }
  return {
    streams,
    deliveries: recordsBySink.flat(),
    drops,
    jobs: jobSpans(changes),
    graceMs: 400,
  };
}

interface Measurement {
  events: number;
  streams: number;
  records: number;
  ranges: number;
  buildSeconds: number;
  ledgerSeconds: number[];
  heapAfterInputMb: number;
  heapAfterLedgerMb: number;
  startRssMb: number;
  peakRssMb: number;
  totals: LedgerReport["totals"];
}

const mb = (bytes: number): number => bytes / (1024 * 1024);

function heapUsedMb(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return mb(process.memoryUsage().heapUsed);
}

/** The child's body: build, settle REPEATS times, report as one JSON line. */
function measure(): Measurement {
  const startRssMb = mb(process.memoryUsage().rss);
  const buildStart = performance.now();
  const input = buildLedgerInput();
  const buildSeconds = (performance.now() - buildStart) / 1000;
  const heapAfterInputMb = heapUsedMb();
  const ledgerSeconds: number[] = [];
  let report: LedgerReport | null = null;
  for (let repeat = 0; repeat < REPEATS; repeat++) {
    const start = performance.now();
    report = computeLedger(input);
    ledgerSeconds.push((performance.now() - start) / 1000);
  }
  const deliveries = input.deliveries as LedgerDelivery[];
  return {
    events: EVENTS,
    streams: (input.streams as LedgerStream[]).length,
    records: deliveries.length,
    ranges: deliveries.reduce(
      (sum, record) => sum + record.streams.reduce((n, entry) => n + entry.ranges.length, 0),
      0,
    ),
    buildSeconds,
    ledgerSeconds,
    heapAfterInputMb,
    heapAfterLedgerMb: heapUsedMb(),
    startRssMb,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    totals: report!.totals,
  };
}

export async function benchLedger(): Promise<void> {
  const output = execFileSync(
    process.execPath,
    [
      `--max-old-space-size=${HEAP_LIMIT_MB}`,
      "--expose-gc",
      fileURLToPath(import.meta.url),
      "--measure",
    ],
    { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
  );
  const result = JSON.parse(output.trim().split("\n").at(-1)!) as Measurement;
  const sorted = [...result.ledgerSeconds].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  const { totals } = result;
  console.log(
    `input: ${result.events.toLocaleString("en")} events in ${result.streams} streams, ${result.records.toLocaleString("en")} sink records (${result.ranges.toLocaleString("en")} seq ranges), built in ${result.buildSeconds.toFixed(2)} s`,
  );
  console.log(
    `computeLedger: ${result.ledgerSeconds.map((s) => `${s.toFixed(3)} s`).join(", ")} (median ${median.toFixed(3)} s)`,
  );
  console.log(
    `memory: heap ${result.heapAfterInputMb.toFixed(0)} MB with the input, ${result.heapAfterLedgerMb.toFixed(0)} MB after; peak RSS ${result.peakRssMb.toFixed(0)} MB, of which ${result.startRssMb.toFixed(0)} MB before the input (Node and its TypeScript loader); heap capped at ${HEAP_LIMIT_MB} MB`,
  );
  console.log(
    `ledger: expected ${totals.expected} delivered ${totals.delivered} declared ${totals.declared} lost ${totals.lost} duplicated ${totals.duplicated} misdelivered ${totals.misdelivered} rejected ${totals.rejected} indeterminate ${totals.indeterminate} unconfigured ${totals.unconfigured} deliveredWithoutJob ${totals.deliveredWithoutJob}`,
  );
  console.log(
    `ledger.events_per_s=${Math.round(result.events / median)} ledger.peak_mb=${Math.round(result.peakRssMb)}`,
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes("--measure")) console.log(JSON.stringify(measure()));
  else await benchLedger();
}
