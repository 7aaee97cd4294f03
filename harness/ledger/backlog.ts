// The backlog over time, from outside the pipeline (docs/architecture.md §5): how many
// acknowledged events the pipeline owed at each instant — expected events produced by then that
// were not yet delivered or declared. Worked out after the run, once the ledger has settled
// which events were expected: an event counts from the start of the production run that made
// it until the first sink record or drop record that settled it (sinks and components stamp
// those with their time). Events the ledger found lost are left out when the pipeline drained
// (they left it silently: no-silent-loss judges them) and kept when it did not (they may be
// stuck inside).

import type { DropRecord } from "../../pipeline/core/drops.ts";
import { streamKey } from "../../pipeline/core/event.ts";
import { IntervalSet } from "./interval-set.ts";
import type { LedgerDelivery, LedgerStream } from "./ledger.ts";

interface Step {
  at: number;
  delta: number;
}

/** Per stream: the events the backlog follows, and where each one was produced. */
export interface OwedStream {
  stream: LedgerStream;
  owed: IntervalSet;
}

/** Most steps kept: a limit where a huge run would otherwise grow the series without end. */
const STEPS_MAX = 2_000_000;

/**
 * The number of events owed at each of `instants` (ascending): produced (run start) at or
 * before it, settled (first delivery or declaration) after it.
 */
export function backlogAt(
  owedStreams: readonly OwedStream[],
  deliveries: readonly LedgerDelivery[],
  drops: readonly DropRecord[],
  instants: readonly number[],
): number[] {
  const steps: Step[] = [];
  const owedByKey = new Map<string, { owed: IntervalSet; settled: IntervalSet }>();
  for (const { stream, owed } of owedStreams) {
    if (owed.isEmpty()) continue;
    owedByKey.set(streamKey(stream), { owed, settled: new IntervalSet() });
    for (const run of stream.runs) {
      const count = owed.countWithin(run.seqFrom, run.seqTo);
      if (count > 0) steps.push({ at: run.firstAt, delta: count });
    }
  }
  const settlements = [
    ...deliveries.flatMap((delivery) =>
      delivery.at === undefined ? [] : [{ at: delivery.at, streams: delivery.streams }],
    ),
    ...drops.map((drop) => ({ at: drop.at, streams: drop.streams })),
  ].sort((a, b) => a.at - b.at);
  for (const { at, streams } of settlements) {
    for (const ranges of streams) {
      const entry = owedByKey.get(streamKey(ranges));
      if (entry === undefined) continue;
      for (const [from, to] of ranges.ranges) {
        const fresh = IntervalSet.range(from, to).difference(entry.settled);
        entry.settled.addRange(from, to);
        const count = fresh.isEmpty() ? 0 : entry.owed.intersection(fresh).size;
        if (count > 0) steps.push({ at, delta: -count });
      }
    }
    if (steps.length > STEPS_MAX) {
      throw new Error(`the backlog series has more than ${STEPS_MAX} steps, its limit`);
    }
  }
  steps.sort((a, b) => a.at - b.at || b.delta - a.delta);
  const values: number[] = [];
  let owedNow = 0;
  let next = 0;
  for (const instant of instants) {
    while (next < steps.length && steps[next]!.at <= instant) owedNow += steps[next++]!.delta;
    values.push(owedNow);
  }
  return values;
}
