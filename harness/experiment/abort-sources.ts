// What the abort conditions read on the reference pipeline (abort.ts; docs/architecture.md §6,
// "Abort conditions"), and on a target that plays it: the observer's buffer readings against
// the profile's byte bound, its health readings, each service's memory from the runtime, and
// the events still missing, settled by the ledger itself over what the harness has read so far.

import { streamKey } from "../../pipeline/core/event.ts";
import type { SinkRecord } from "../../pipeline/sink/sink-records.ts";
import { firstOf } from "../faults/targets.ts";
import { pagesFrom } from "../ledger/collect.ts";
import { IntervalSet } from "../ledger/interval-set.ts";
import { computeLedger, type LedgerDelivery } from "../ledger/ledger.ts";
import { servicesRunning, type RunningTopology } from "../runtime/runtime.ts";
import type { AbortSources } from "./abort.ts";
import { ProducedBefore } from "./abort-streams.ts";
import { referenceMemoryCapMb } from "./memory-cap.ts";
import { ledgerGraceMs } from "./phases/verdict.ts";
import type { RunState } from "./run-state.ts";

const MIB = 1024 * 1024;

/** The streams one destination has received, each as one set of seqs (copies folded). */
type Received = Map<
  string,
  { tenant: string; dataset: string; producer: string; seqs: IntervalSet }
>;

/**
 * The expected events, acknowledged and produced more than `olderThanMs` ago, that no sink holds
 * and no component declared dropped: the ledger's `lost` over what has been read so far. Each
 * read takes only the sinks' records added since the last one (their records outlive restarts,
 * so a cursor stays good) and folds them into one set per stream and destination, so memory is
 * bounded by the streams, not the records; the production runs settled by the last read are
 * kept folded (abort-streams.ts). A sink that cannot be read makes the reading unknown.
 */
export class MissingEvents {
  private readonly state: RunState;
  private readonly cursors = new Map<string, number>();
  private readonly received = new Map<string, Received>();
  /** Per `olderThanMs` (one per condition), the streams it reads, kept across readings. */
  private readonly produced = new Map<number, ProducedBefore>();

  constructor(state: RunState) {
    this.state = state;
  }

  async count(olderThanMs: number): Promise<number | undefined> {
    const { topology, workload, observer, jobs } = this.state.running();
    if (!(await this.readSinks(topology))) return undefined;
    const before = this.state.clock.now() - olderThanMs;
    let produced = this.produced.get(olderThanMs);
    if (produced === undefined) this.produced.set(olderThanMs, (produced = new ProducedBefore()));
    const spans = jobs.spans();
    const graceMs = ledgerGraceMs(this.state.limits);
    const ledger = computeLedger({
      streams: produced.streams(workload.record, spans, graceMs, before),
      deliveries: this.deliveries(),
      drops: observer.declaredDrops(),
      jobs: spans,
      graceMs,
    });
    return ledger.totals.lost;
  }

  private async readSinks(topology: RunningTopology): Promise<boolean> {
    for (const sink of servicesRunning(topology.services, "sink")) {
      const page = await pagesFrom<SinkRecord>(
        topology.net,
        `${sink.url()}/records`,
        this.cursors.get(sink.name) ?? 0,
      ).catch(() => null);
      if (page === null) return false;
      this.cursors.set(sink.name, page.next);
      for (const record of page.records) this.fold(`${sink.name}/${record.destination}`, record);
    }
    return true;
  }

  private fold(destination: string, record: SinkRecord): void {
    let streams = this.received.get(destination);
    if (streams === undefined) this.received.set(destination, (streams = new Map()));
    for (const stream of record.streams) {
      const key = streamKey(stream);
      let entry = streams.get(key);
      if (entry === undefined) {
        const { tenant, dataset, producer } = stream;
        streams.set(key, (entry = { tenant, dataset, producer, seqs: new IntervalSet() }));
      }
      for (const [from, to] of stream.ranges) entry.seqs.addRange(from, to);
    }
  }

  private deliveries(): LedgerDelivery[] {
    return [...this.received.entries()].map(([destination, streams]) => ({
      destination,
      streams: [...streams.values()].map(({ tenant, dataset, producer, seqs }) => ({
        tenant,
        dataset,
        producer,
        ranges: seqs.toJSON(),
      })),
    }));
  }
}

/** The sources on the reference pipeline: the Observer's readings and the runtime's memory. */
export function referenceAbortSources(state: RunState): AbortSources {
  const missing = new MissingEvents(state);
  return {
    buffer: async () => {
      const { observer, topology } = state.running();
      const latest = observer.latestBuffer();
      if (latest === undefined) return undefined;
      const service = firstOf(topology, "buffer").name;
      return { value: latest.bytes, bound: state.limits.maxBufferBytes, unit: "bytes", service };
    },
    health: () => state.watching().healthSamples,
    memoryMb: (service) => memoryMbOf(state.running().topology, service),
    memoryCapMb: (service) => referenceMemoryCapMb(state.experiment, service),
    missingEvents: (olderThanMs) => missing.count(olderThanMs),
  };
}

/** A service's memory now, in MB, from the OS (or the simulator's model): of a run or a target. */
export async function memoryMbOf(
  services: { service(name: string): { memoryBytes(): Promise<number | undefined> } },
  service: string,
): Promise<number | undefined> {
  const bytes = await services.service(service).memoryBytes();
  return bytes === undefined ? undefined : bytes / MIB;
}
