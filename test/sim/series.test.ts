// The journal's time series of the incident replay on the simulator shows what the report must:
// the loss starting with the empty config's fault window, and the buffer over its byte bound
// during the fail-open flood that follows the revert.

import { describe, expect, it } from "vitest";
import { loadExperiment } from "../../harness/experiment/load.ts";
import { runOn } from "../../harness/experiment/run-on.ts";
import { EVENT_CLASSES } from "../../harness/experiment/series-build.ts";
import type { Journal } from "../../harness/experiment/journal.ts";

const sum = (values: Array<number | null>) => values.reduce<number>((a, b) => a + (b ?? 0), 0);

describe("journal.series of nov14-2024 on legacy-2024 (simulator)", () => {
  // One run serves both tests: the series and the verdict of the same journal.
  let run: Promise<Journal> | undefined;
  const journalOf = async (): Promise<Journal> =>
    (run ??= loadExperiment("nov14-2024").then((experiment) =>
      runOn("sim", experiment, { profile: "legacy-2024", seed: 1 }),
    ));

  it("shows the loss starting at the empty config and the buffer past its bound in the flood", async () => {
    const journal = await journalOf();
    const series = journal.series!;
    expect(series.bucketMs).toBe(1_000);
    const bucketOf = (ms: number) => Math.floor(ms / series.bucketMs);
    const emptyConfig = series.faults.find((fault) => fault.name.startsWith("config.add-job"))!;
    const revert = series.faults.find((fault) => fault.name.startsWith("config.revert"))!;
    const firstLoss = series.events.lost.findIndex((lost) => (lost ?? 0) > 0);
    expect(firstLoss).toBe(bucketOf(emptyConfig.fromMs));
    expect(series.configs).toContainEqual(
      expect.objectContaining({ kind: "published", invalid: "empty: it forwards no pair" }),
    );
    const bound = series.buffer.bound!;
    const firstOver = series.buffer.held.findIndex((held) => (held ?? 0) > bound);
    expect(firstOver).toBeGreaterThanOrEqual(bucketOf(revert.fromMs));
    const bufferRestart = series.faults.find((fault) => fault.target === "buffer")!;
    expect(firstOver).toBeLessThan(bucketOf(bufferRestart.fromMs));
    // The lost events sum to the ledger's, every one charted under its tenant.
    expect(sum(series.events.lost)).toBe(journal.verdict!.ledger.lost);
    expect(sum(Object.values(series.lostByTenant).flat())).toBe(journal.verdict!.ledger.lost);
    expect(series.restarts).toContainEqual(
      expect.objectContaining({ service: "buffer", kind: "memory-cap-exceeded" }),
    );
    // Every service's memory is charted, read from outside, not only the buffer's.
    const charted = series.memory
      .filter((entry) => entry.mb.some((value) => value !== null))
      .map((entry) => entry.service)
      .sort();
    expect(charted).toEqual(["buffer", "config", "forwarder", "pusher", "sink-0", "sink-1"].sort());
  });

  it("charts every event class with the ledger's count of it, summed over the buckets", async () => {
    const journal = await journalOf();
    const { ledger, figures } = journal.verdict!;
    const charted = Object.fromEntries(
      EVENT_CLASSES.map((name) => [name, sum(journal.series!.events[name])]),
    );
    expect(charted).toEqual({
      produced: ledger.produced,
      acknowledged: figures.acknowledged,
      rejected: ledger.rejected,
      delivered: ledger.delivered,
      declared: ledger.declared,
      lost: ledger.lost,
      indeterminate: ledger.indeterminate,
    });
    // The run loses events (test/experiment/series-build.test.ts covers the other classes).
    for (const name of ["delivered", "lost"] as const)
      expect(charted[name], name).toBeGreaterThan(0);
  });
});
