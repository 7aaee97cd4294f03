import { describe, expect, it } from "vitest";
import { checkNoSilentLoss } from "../../harness/invariants/no-silent-loss.ts";
import { IntervalSet } from "../../harness/ledger/interval-set.ts";
import { computeLedger, jobSpans } from "../../harness/ledger/ledger.ts";
import { ledgerOf, observations } from "./observations.ts";

const lossy = ledgerOf(
  {
    a: { expected: 1_000, delivered: 900, lost: 100 },
    b: { expected: 500, delivered: 300, lost: 200 },
    c: { expected: 10, delivered: 10 },
  },
  {
    lostSamples: [
      { tenant: "a", dataset: "http", producer: "p0", seq: 7 },
      { tenant: "a", dataset: "http", producer: "p0", seq: 8 },
    ],
  },
);

describe("no-silent-loss", () => {
  it("holds when every expected event was delivered or declared, and says how many", () => {
    const result = checkNoSilentLoss(observations());
    expect(result.status).toBe("held");
    expect(result.summary).toBe(
      "1,500 expected events, all delivered (1,490) or declared dropped (10)",
    );
    expect(result.evidence).toMatchObject({ expected: 1_500, lost: 0, tenantsWithLoss: 0 });
  });

  it("holds when nothing was lost even if the pipeline did not drain", () => {
    expect(checkNoSilentLoss(observations({ drained: false })).status).toBe("held");
  });

  it("says so when it holds only because nothing was expected", () => {
    const result = checkNoSilentLoss(
      observations({ ledger: ledgerOf({ a: { produced: 10, unconfigured: 10 } }) }),
    );
    expect(result.status).toBe("held");
    expect(result.summary).toMatch(/^held vacuously: no event was expected/);
  });

  it("is violated by any loss, with the share, the tenants most hit first and the first lost ids", () => {
    const result = checkNoSilentLoss(observations({ ledger: lossy }));
    expect(result.status).toBe("violated");
    expect(result.summary).toBe(
      "300 of 1,510 expected events (19.9%) lost silently across 2 tenants (most: b, 200 of 500); first lost: a/http/p0#7",
    );
    expect(result.evidence).toEqual({
      expected: 1_510,
      delivered: 1_210,
      declared: 0,
      lost: 300,
      lostShare: 300 / 1_510,
      indeterminate: 0,
      indeterminateShare: 0,
      indeterminateShareMax: 0.01,
      tenantsWithLoss: 2,
      tenants: [
        { tenant: "b", lost: 200, expected: 500, lostShare: 0.4 },
        { tenant: "a", lost: 100, expected: 1_000, lostShare: 0.1 },
      ],
      firstLost: lossy.lostSamples,
    });
  });

  it("reports the ledger's own lost events: settle, then check", () => {
    const ledger = computeLedger({
      streams: [
        {
          tenant: "a",
          dataset: "http",
          producer: "p0",
          produced: IntervalSet.range(0, 9),
          acked: IntervalSet.range(0, 9),
          rejected: new IntervalSet(),
          unknown: new IntervalSet(),
          runs: [{ seqFrom: 0, seqTo: 9, firstAt: 1_000, lastAt: 1_050 }],
        },
      ],
      deliveries: [
        {
          destination: "s0/a",
          streams: [{ tenant: "a", dataset: "http", producer: "p0", ranges: [[0, 6]] }],
        },
      ],
      drops: [],
      jobs: jobSpans([{ at: 0, tenant: "a", dataset: "http", destination: "s0/a", enabled: true }]),
      graceMs: 100,
    });
    const result = checkNoSilentLoss(observations({ ledger }));
    expect(result.status).toBe("violated");
    expect(result.summary).toBe(
      "3 of 10 expected events (30.0%) lost silently across 1 tenant (most: a, 3 of 10); first lost: a/http/p0#7",
    );
  });

  it("is unknown when events are missing but the pipeline did not drain", () => {
    const result = checkNoSilentLoss(observations({ ledger: lossy, drained: false }));
    expect(result.status).toBe("unknown");
    expect(result.summary).toBe(
      "300 expected events were neither delivered nor declared, but the pipeline did not drain, so they may still arrive",
    );
    expect(result.evidence).toMatchObject({ lost: 300, tenantsWithLoss: 2 });
  });

  it("is unknown when some component's drops or some sink's records could not be read", () => {
    const result = checkNoSilentLoss(
      observations({ ledger: lossy, unreadableDrops: ["pusher"], unreadableSinks: ["sink-1"] }),
    );
    expect(result.status).toBe("unknown");
    expect(result.summary).toContain(
      "the declared drops of pusher could not be read, so they may have been declared",
    );
    expect(result.summary).toContain(
      "the records of sink-1 could not be read, so they may have been delivered",
    );
    expect(result.evidence.unsureBecause).toHaveLength(2);
  });

  describe("indeterminate events", () => {
    /** 1,000 expected, all delivered, and `indeterminate` events of unknown outcome. */
    const withIndeterminate = (indeterminate: number, expected = 1_000) =>
      ledgerOf({ a: { expected, delivered: expected, indeterminate } });

    it("is unknown, not held, when they exceed 1% of the expected by default, saying how many", () => {
      const result = checkNoSilentLoss(observations({ ledger: withIndeterminate(11) }));
      expect(result.status).toBe("unknown");
      expect(result.summary).toBe(
        "no expected event was lost, but 11 events are indeterminate (1.1% of the 1,000 expected; at most 1.0% allowed): their outcome is unknown to the producer, or they were produced near a job change, so they may have been lost",
      );
      expect(result.evidence).toMatchObject({
        indeterminate: 11,
        indeterminateShare: 0.011,
        indeterminateShareMax: 0.01,
      });
    });

    it("holds with indeterminate events up to the share", () => {
      expect(checkNoSilentLoss(observations({ ledger: withIndeterminate(10) })).status).toBe(
        "held",
      );
    });

    it("takes the share the experiment states", () => {
      const ledger = withIndeterminate(300);
      expect(checkNoSilentLoss(observations({ ledger, indeterminateShareMax: 0.5 })).status).toBe(
        "held",
      );
      expect(checkNoSilentLoss(observations({ ledger, indeterminateShareMax: 0 })).status).toBe(
        "unknown",
      );
    });

    it("is unknown, not held vacuously, when nothing was expected and events are indeterminate", () => {
      const result = checkNoSilentLoss(
        observations({ ledger: ledgerOf({ a: { produced: 500, indeterminate: 500 } }) }),
      );
      expect(result.status).toBe("unknown");
      expect(result.summary).toMatch(
        /^no expected event was lost, but 500 events are indeterminate \(while no event was expected;/,
      );
      expect(result.evidence.indeterminateShare).toBeNull();
    });

    it("does not hide a loss: lost events are a violation however many are indeterminate", () => {
      const ledger = ledgerOf({
        a: { expected: 100, delivered: 90, lost: 10, indeterminate: 900 },
      });
      expect(checkNoSilentLoss(observations({ ledger })).status).toBe("violated");
    });
  });

  it("lists at most twenty tenants in its evidence but counts them all", () => {
    const many = Object.fromEntries(
      Array.from({ length: 25 }, (_, i) => [
        `t${String(i).padStart(2, "0")}`,
        { expected: 10, lost: 1 + i },
      ]),
    );
    const result = checkNoSilentLoss(observations({ ledger: ledgerOf(many) }));
    expect(result.evidence.tenantsWithLoss).toBe(25);
    expect(result.evidence.tenants).toHaveLength(20);
    expect((result.evidence.tenants as Array<{ tenant: string }>)[0]!.tenant).toBe("t24");
  });
});
