// Turns the workload's record into the ledger's streams, whole or restricted to the events
// produced within a time window (the incident window of an experiment).

import { IntervalSet } from "../ledger/interval-set.ts";
import type { LedgerStream } from "../ledger/ledger.ts";
import type { WorkloadRecord } from "../workload/record.ts";

export function ledgerStreams(record: WorkloadRecord): LedgerStream[] {
  return [...record.streams()].map((stream) => ({
    tenant: stream.tenant,
    dataset: stream.dataset,
    producer: stream.producer,
    produced: stream.producedSet(),
    acked: stream.acked,
    rejected: stream.rejected,
    unknown: stream.unknown,
    runs: stream.productionRuns(),
  }));
}

/** The same streams, keeping only the events whose production run lies within [from, to]. */
export function withinWindow(
  streams: readonly LedgerStream[],
  from: number,
  to: number,
): LedgerStream[] {
  return streams.map((stream) => {
    const runs = stream.runs.filter((run) => run.firstAt >= from && run.lastAt <= to);
    const inWindow = new IntervalSet();
    for (const run of runs) inWindow.addRange(run.seqFrom, run.seqTo);
    return {
      ...stream,
      runs,
      produced: stream.produced.intersection(inWindow),
      acked: stream.acked.intersection(inWindow),
      rejected: stream.rejected.intersection(inWindow),
      unknown: stream.unknown.intersection(inWindow),
    };
  });
}
