import { describe, expect, it } from "vitest";
import { bytes, duration, percent, when } from "../../harness/invariants/format.ts";
import { checkInvariants, checkSafely, formatInvariant } from "../../harness/invariants/index.ts";
import { INVARIANT_NAMES, type InvariantResult } from "../../harness/invariants/types.ts";
import { ledgerOf, observations } from "./observations.ts";

describe("checkInvariants", () => {
  it("checks every invariant by default, in the order of INVARIANT_NAMES", () => {
    const results = checkInvariants(observations());
    expect(results.map((result) => result.name)).toEqual([...INVARIANT_NAMES]);
    expect(results.every((result) => result.status === "held")).toBe(true);
  });

  it("checks only the named invariants, once each, in the order given", () => {
    const results = checkInvariants(
      observations({ ledger: ledgerOf({ a: { expected: 5, lost: 5 } }) }),
      ["recovery", "no-silent-loss", "recovery"],
    );
    expect(results.map((result) => [result.name, result.status])).toEqual([
      ["recovery", "held"],
      ["no-silent-loss", "violated"],
    ]);
  });

  it("answers unknown for a check that throws, with the error as evidence, and judges the others", () => {
    // Readings the buffer check cannot read: it throws; the four others still answer.
    const broken = observations({
      buffer: { ...observations().buffer, samples: null as never },
    });
    const results = checkInvariants(broken);
    expect(results.map((result) => [result.name, result.status])).toEqual([
      ["no-silent-loss", "held"],
      ["bounded-buffer", "unknown"],
      ["tenant-isolation", "held"],
      ["config-safety", "held"],
      ["recovery", "held"],
    ]);
    const failed = results[1]!;
    expect(failed.summary).toMatch(/^the check itself failed, so the invariant was not judged: /);
    expect(failed.evidence.error).toEqual(expect.any(String));
    expect((failed.evidence.stack as string[]).length).toBeGreaterThan(0);
  });

  it("turns anything thrown, not only an Error, into unknown", () => {
    const result = checkSafely(
      "recovery",
      () => {
        throw "no clock";
      },
      observations(),
    );
    expect(result).toMatchObject({
      name: "recovery",
      status: "unknown",
      evidence: { error: "no clock" },
    });
    expect(result.summary).toContain("no clock");
  });

  it("gives evidence that survives a JSON round trip unchanged (the journal stores it)", () => {
    for (const result of checkInvariants(
      observations({ configDecisions: [], buffer: { ...observations().buffer, samples: [] } }),
    )) {
      expect(JSON.parse(JSON.stringify(result.evidence))).toEqual(result.evidence);
    }
  });
});

describe("formatInvariant", () => {
  const violated: InvariantResult = {
    name: "no-silent-loss",
    status: "violated",
    summary: "3 of 10 expected events (30.0%) lost silently across 1 tenant",
    evidence: { lost: 3, firstLost: [{ tenant: "a", dataset: "http", producer: "p0", seq: 7 }] },
  };

  it("writes one line: mark, name, status and summary", () => {
    expect(formatInvariant(violated)).toBe(
      "✗ no-silent-loss   violated 3 of 10 expected events (30.0%) lost silently across 1 tenant",
    );
    expect(formatInvariant({ ...violated, status: "held" })).toMatch(
      /^✓ no-silent-loss {3}held {5}/,
    );
    expect(formatInvariant({ ...violated, status: "unknown" })).toMatch(
      /^\? no-silent-loss {3}unknown /,
    );
  });

  it("adds the evidence as indented lines when asked", () => {
    expect(formatInvariant(violated, { evidence: true }).split("\n")).toEqual([
      formatInvariant(violated),
      "    lost: 3",
      '    firstLost: [{"tenant":"a","dataset":"http","producer":"p0","seq":7}]',
    ]);
  });
});

describe("summary figures", () => {
  it("write sizes, shares, durations and times the same way everywhere", () => {
    expect([bytes(512), bytes(3 * 1024 * 1024), bytes(2.5 * 1024 ** 3)]).toEqual([
      "512 B",
      "3.0 MiB",
      "2.5 GiB",
    ]);
    expect([percent(0.552), percent(0.00004), percent(0)]).toEqual(["55.2%", "<0.1%", "0.0%"]);
    expect([duration(250), duration(12_400), duration(185_000)]).toEqual([
      "250 ms",
      "12.4 s",
      "3 min 5 s",
    ]);
    expect(when(1_012_400, 1_000_000)).toBe("+12.4 s");
    expect(when(1_731_600_000_000, undefined)).toBe("2024-11-14T16:00:00.000Z");
    expect(when(4_000, undefined)).toBe("t=4.0 s");
  });
});
