// The workload's streams as the silent-loss reading hands them to the ledger (abort-sources.ts;
// docs/architecture.md §6, "Abort conditions"): the events produced by a time, as
// withinWindow(ledgerStreams(record), -Infinity, before) gives them, kept from one reading to
// the next so that a reading costs what was produced since the last one, not the whole run.
//
// A stream's production runs are ascending. A run no longer changes once every one of its seqs
// has an outcome (only settling an event stretches its run) and it is not the stream's last
// (only the last one grows): once such a run also ended by `before`, which only grows, it stays
// in the window for good. The runs of that settled prefix are folded, one per stretch of runs
// the jobs cover alike, each carrying the times of one of its own runs: the ledger classes the
// stretch exactly as it would class each run in it. The folding holds for the jobs it was made
// under; when they change (a job change, an answer to one), it is made again from the start.

import { IntervalSet } from "../ledger/interval-set.ts";
import {
  runCoverageUnder,
  type Coverage,
  type JobSpan,
  type LedgerStream,
} from "../ledger/ledger.ts";
import type { ProductionRun, StreamRecord, WorkloadRecord } from "../workload/record.ts";

/** One stream's settled prefix: runs 0..runs-1, seqs 0..seqTo, folded. */
interface SettledPrefix {
  runs: number;
  /** -1 while the prefix is empty. */
  seqTo: number;
  folded: ProductionRun[];
  /** How the jobs cover the last folded stretch (null while there is none). */
  lastCoverage: Coverage | null;
}

/** Whether every seq of `run` has an outcome: nothing can stretch it any more. */
function settled(stream: StreamRecord, run: ProductionRun): boolean {
  return stream.outcomesWithin(run.seqFrom, run.seqTo) === run.seqTo - run.seqFrom + 1;
}

/** The streams produced before a time, read again and again as that time moves on. */
export class ProducedBefore {
  private readonly prefixes = new Map<string, SettledPrefix>();
  /** The jobs and grace the prefixes were folded under, and the last `before`. */
  private foldedUnder = "";
  private lastBefore = Number.NEGATIVE_INFINITY;

  /**
   * The record's streams restricted to the runs that ended by `before`, for the ledger under
   * `jobs` and `graceMs`. A `before` earlier than the last one starts over.
   */
  streams(
    record: WorkloadRecord,
    jobs: readonly JobSpan[],
    graceMs: number,
    before: number,
  ): LedgerStream[] {
    const under = JSON.stringify([graceMs, jobs]);
    if (under !== this.foldedUnder || before < this.lastBefore) this.prefixes.clear();
    this.foldedUnder = under;
    this.lastBefore = before;
    const coverage = runCoverageUnder(jobs, graceMs);
    return [...record.streams()].map((stream) => {
      let prefix = this.prefixes.get(stream.key);
      if (prefix === undefined) {
        prefix = { runs: 0, seqTo: -1, folded: [], lastCoverage: null };
        this.prefixes.set(stream.key, prefix);
      }
      const classOf = (run: ProductionRun) =>
        coverage(stream.tenant, stream.dataset, run.firstAt, run.lastAt);
      this.extend(prefix, stream, before, classOf);
      return this.ledgerStream(prefix, stream, before);
    });
  }

  /** Moves the prefix over the runs that settled and ended by `before` since the last reading. */
  private extend(
    prefix: SettledPrefix,
    stream: StreamRecord,
    before: number,
    classOf: (run: ProductionRun) => Coverage,
  ): void {
    for (; prefix.runs < stream.runCount - 1; prefix.runs++) {
      const run = stream.runAt(prefix.runs);
      if (run.lastAt > before || !settled(stream, run)) return;
      const coverage = classOf(run);
      const last = prefix.folded.at(-1);
      if (last !== undefined && coverage === prefix.lastCoverage) last.seqTo = run.seqTo;
      else prefix.folded.push(run);
      prefix.lastCoverage = coverage;
      prefix.seqTo = run.seqTo;
    }
  }

  /** The stream with its folded prefix, then its later runs that ended by `before`. */
  private ledgerStream(prefix: SettledPrefix, stream: StreamRecord, before: number): LedgerStream {
    const runs = [...prefix.folded];
    const inWindow = new IntervalSet();
    if (prefix.seqTo >= 0) inWindow.addRange(0, prefix.seqTo);
    for (let index = prefix.runs; index < stream.runCount; index++) {
      const run = stream.runAt(index);
      if (run.lastAt > before) continue;
      runs.push(run);
      inWindow.addRange(run.seqFrom, run.seqTo);
    }
    return {
      tenant: stream.tenant,
      dataset: stream.dataset,
      producer: stream.producer,
      produced: stream.producedSet().intersection(inWindow),
      acked: stream.acked.intersection(inWindow),
      rejected: stream.rejected.intersection(inWindow),
      unknown: stream.unknown.intersection(inWindow),
      runs,
    };
  }
}
