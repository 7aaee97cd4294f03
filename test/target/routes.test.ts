// Routes, several egresses, a dead-letter egress and a Prometheus counter of declared drops
// (docs/targets.md, "Routes" and "Declared drops"), end to end on real rsyslog: a relay splitting
// tenants over egresses a, b and a dead-letter egress, with a file archive of everything
// (test/target/fixtures/rsyslog-split/). A reset on the link to b alone violates b's ledger and no
// other: a's holds, the archive's full copy does not hide b's loss, and t001's events, sent to the
// dead-letter egress, are declared rather than lost. The counter's arithmetic (a loss up to its
// count is unknown, over it violated) is checked on its own below.

import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { InvariantResult } from "../../harness/invariants/types.ts";
import { JobRecord } from "../../harness/ledger/job-record.ts";
import { loadExperimentAndTarget } from "../../harness/target/load.ts";
import { runOnTarget } from "../../harness/target/run.ts";
import {
  counterRise,
  metricSum,
  owedEvents,
  routeSpans,
  weighCounterDrops,
} from "../../harness/target/verdict.ts";
import { WorkloadRecord } from "../../harness/workload/record.ts";
import { Timeline } from "../../harness/workload/timeline.ts";

const available = existsSync("/usr/sbin/rsyslogd");
if (!available && process.env.CI !== undefined)
  throw new Error("rsyslog must be installed on CI (.ci/run installs it)");

describe.skipIf(!available)("routes over several egresses, end to end on rsyslog", () => {
  it("a reset on relay->b breaks b's ledger alone; t001 is declared through the dead-letter egress; the archive's copy hides nothing", async () => {
    const { experiment, target } = await loadExperimentAndTarget(
      "test/target/fixtures/rsyslog-split/b-reset.yaml",
    );
    const journal = await runOnTarget(experiment, target!, { seed: 1 });
    expect(journal.status, journal.error).toBe("completed");
    const verdict = journal.verdict!;
    const { a, b, archive } = verdict.target!.egresses;

    expect(a!.expected).toBeGreaterThan(0);
    expect(a).toMatchObject({ delivered: a!.expected, lost: 0, misdelivered: 0 });
    expect(archive).toMatchObject({
      expected: verdict.figures.acknowledged,
      delivered: verdict.figures.acknowledged,
      lost: 0,
    });
    expect(b!.lost).toBeGreaterThan(verdict.target!.declaredByCounter!);
    const loss = verdict.invariants["no-silent-loss"]!;
    expect(loss.status).toBe("violated");
    expect(loss.summary).toMatch(/^egress b: .* lost silently/);
    expect(journal.asExpected).toBe(true);

    // The headline ledger is b's (its route comes first): t001 went to the dead-letter egress.
    const { t001, t002, t003 } = verdict.ledgerByTenant;
    expect(t001!.expected).toBeGreaterThan(0);
    expect(t001).toMatchObject({ declared: t001!.expected, lost: 0, delivered: 0 });
    expect(b!.declared).toBe(t001!.expected);
    expect(t002!.lost + t003!.lost).toBe(b!.lost);

    // 5 at the first scrape, 5 + 1 at the end, over two label sets: the rise, summed.
    expect(verdict.target!.declaredByCounter).toBe(1);

    // The series charts the headline egress's events and the backlog measured from outside.
    const series = journal.series!;
    const sum = (values: Array<number | null>) => values.reduce<number>((a, b) => a + (b ?? 0), 0);
    expect(series.buffer).toMatchObject({ unit: "events", buffers: null });
    expect(series.buffer.held.some((held) => held !== null)).toBe(true);
    expect(sum(series.events.lost)).toBe(b!.lost);
    expect(sum(series.events.declared)).toBe(b!.declared);
    expect(series.faults.map((fault) => fault.target)).toContain("relay->b");
  }, 60_000);
});

describe("routes that share a (tenant, dataset)", () => {
  const jobs = new JobRecord(
    [
      { tenant: "t001", dataset: "app", destination: "b/all" },
      { tenant: "t000", dataset: "app", destination: "a/all" },
      { tenant: "t000", dataset: "app", destination: "archive/all" },
      { tenant: "t001", dataset: "app", destination: "archive/all" },
    ],
    0,
  );

  it("keep a job at every egress they name, in force for the whole run", () => {
    const spans = routeSpans(jobs);
    expect([...spans.keys()]).toEqual(["b", "a", "archive"]);
    expect(spans.get("archive")!.map((span) => [span.tenant, span.from, span.to])).toEqual([
      ["t000", 0, null],
      ["t001", 0, null],
    ]);
  });

  it("owe each acknowledged event once per egress routed to it", () => {
    const record = new WorkloadRecord([], new Timeline(0, 1_000));
    const t000 = record.streamFor("t000", "app", "edge-0");
    t000.produce(10, 0, 1_000);
    t000.settle("acked", 0, 9);
    const t002 = record.streamFor("t002", "app", "edge-0");
    t002.produce(5, 0, 1_000);
    t002.settle("acked", 0, 4);
    // t000 at a and the archive; t002 routed nowhere.
    expect(owedEvents(record, jobs)).toBe(20);
  });
});

describe("declared drops from a Prometheus counter", () => {
  const violated: InvariantResult = {
    name: "no-silent-loss",
    status: "violated",
    summary: "7 of 100 expected events lost silently",
    evidence: {},
  };

  it("makes a loss up to its count unknown and leaves a larger one violated", () => {
    expect(weighCounterDrops(violated, 7, 7)).toMatchObject({
      status: "unknown",
      summary:
        "7 of 100 expected events lost silently; but counters declare 7 dropped events, which may be these (a count names no event)",
    });
    expect(weighCounterDrops(violated, 7, 6)).toEqual(violated);
    expect(weighCounterDrops(violated, 7, 0)).toEqual(violated);
    const held = { ...violated, status: "held" as const };
    expect(weighCounterDrops(held, 0, 7)).toEqual(held);
  });

  it("counts the rise over the run, and cannot tell it when a reading failed or the counter went down", () => {
    expect(counterRise(5, 12)).toEqual({ rise: 7 });
    expect(counterRise(5, 5)).toEqual({ rise: 0 });
    expect(counterRise(null, 12)).toEqual({ unknown: "unreadable when the target had started" });
    expect(counterRise(5, null)).toEqual({ unknown: "unreadable at the end" });
    expect(counterRise(12, 3)).toEqual({
      unknown: "went down from 12 to 3: its service restarted",
    });
  });

  it("sums a metric's samples over its label sets, and nothing of another name", () => {
    const text = [
      "# TYPE dropped_events_total counter",
      'dropped_events_total{reason="overflow"} 2',
      'dropped_events_total{reason="parse",queue="main"} 3.5',
      "dropped_events_total_created 1700000000",
      "dropped_events 100",
    ].join("\n");
    expect(metricSum(text, "dropped_events_total")).toBe(5.5);
    expect(metricSum(text, "nothing_total")).toBeNull();
  });
});
