// config-safety is judged from what the harness saw — the configs published and what the
// forwarder did with events while an invalid one was the newest — and the forwarder's own
// account is only a cross-check: a forwarder that says it refused a config it applied does
// not pass.

import { describe, expect, it } from "vitest";
import { invalidBecause } from "../../harness/experiment/config-evidence.ts";
import { checkConfigSafety } from "../../harness/invariants/config-safety.ts";
import type { ConfigEvidence, InvalidConfigWindow } from "../../harness/invariants/types.ts";
import type { ConfigDecision } from "../../pipeline/forwarder/config-policy.ts";
import { at, observations } from "./observations.ts";

const decision = (offsetMs: number, fields: Partial<ConfigDecision>): ConfigDecision => ({
  at: at(offsetMs),
  version: 1,
  valid: true,
  applied: true,
  failOpen: false,
  reason: null,
  ...fields,
});

const EMPTY = "empty: it forwards no pair";

const emptyWindow = (fields: Partial<InvalidConfigWindow>): InvalidConfigWindow => ({
  version: 2,
  reason: EMPTY,
  from: at(5_000),
  to: at(9_000),
  expected: 1_000,
  lost: 0,
  ...fields,
});

const seen = (fields: Partial<ConfigEvidence>): ConfigEvidence => ({
  read: 3,
  invalid: [],
  failOpen: null,
  ...fields,
});

/** The forwarder's word: it refused version 2. */
const refusedSays = [
  decision(0, { version: 1 }),
  decision(5_000, { version: 2, valid: false, applied: false, reason: EMPTY }),
];

describe("config-safety", () => {
  it("holds when no invalid config was published, saying how many the harness read", () => {
    const result = checkConfigSafety(observations({ configSeen: seen({}) }));
    expect(result.status).toBe("held");
    expect(result.summary).toBe(
      "no invalid config was published (3 configs read from the config service)",
    );
  });

  it("holds when the forwarder went on delivering while an invalid config was the newest", () => {
    const result = checkConfigSafety(
      observations({
        configSeen: seen({ invalid: [emptyWindow({ lost: 3 })] }),
        configDecisions: refusedSays,
      }),
    );
    expect(result.status, result.summary).toBe("held");
    expect(result.evidence.invalidPublished).toMatchObject([{ version: 2, judgedBy: "events" }]);
  });

  it("is violated when the events were filtered while the invalid config was the newest, whatever the forwarder says", () => {
    const result = checkConfigSafety(
      observations({
        configSeen: seen({ invalid: [emptyWindow({ lost: 990 })] }),
        configDecisions: refusedSays,
      }),
    );
    expect(result.status).toBe("violated");
    expect(result.summary).toBe(
      `while version 2 (${EMPTY}) was the newest config, from +5.0 s to +9.0 s, 990 of the 1,000 expected events (99.0%) were filtered: the forwarder applied it`,
    );
    expect(result.evidence.forwarderSays).toMatchObject({ appliedInvalid: [] });
  });

  it("is violated when pairs that never had a job reached the buffer after an invalid config (fail-open)", () => {
    const result = checkConfigSafety(
      observations({
        configSeen: seen({
          invalid: [emptyWindow({})],
          failOpen: { buffers: 80, at: at(15_000), pairsWithJob: 9 },
        }),
        configDecisions: refusedSays,
      }),
    );
    expect(result.status).toBe("violated");
    expect(result.summary).toMatch(
      /buffer held 80 buffers at \+15\.0 s, while only 9 pairs ever had a job/,
    );
  });

  it("believes a forwarder that admits applying an invalid config", () => {
    const result = checkConfigSafety(
      observations({
        configSeen: seen({ invalid: [emptyWindow({ expected: 5, lost: 0 })] }),
        configDecisions: [
          decision(5_000, { version: 2, valid: false, applied: true, reason: EMPTY }),
        ],
      }),
    );
    expect(result.status).toBe("violated");
    expect(result.summary).toMatch(/^the forwarder reports it applied 1 invalid config/);
  });

  it("says when a stretch too brief to judge by events was judged by the forwarder's report", () => {
    const result = checkConfigSafety(
      observations({
        configSeen: seen({ invalid: [emptyWindow({ expected: 5, lost: 5 })] }),
        configDecisions: refusedSays,
      }),
    );
    expect(result.status).toBe("held");
    expect(result.summary).toMatch(
      /1 too brief to hold 20 expected events, judged by the forwarder's report/,
    );
  });

  it("is unknown when the harness read no config at all", () => {
    const result = checkConfigSafety(observations({ configSeen: seen({ read: 0 }) }));
    expect(result.status).toBe("unknown");
    expect(result.summary).toMatch(/^the harness read no config/);
  });
});

describe("which configs the harness judges invalid", () => {
  it("names a corrupt config, an empty one, and one removing too many pairs at once", () => {
    const config = (pairs: string[] | null) => ({ seenAt: 0, version: 2, pairs });
    expect(invalidBecause(config(null), ["a/x"], 0.5)).toBe("not a valid config");
    expect(invalidBecause(config([]), ["a/x"], 0.5)).toBe(EMPTY);
    expect(invalidBecause(config(["a/x"]), ["a/x", "b/x", "c/x"], 0.5)).toBe(
      "removes 2 of 3 pairs at once",
    );
    expect(invalidBecause(config(["a/x", "b/x"]), ["a/x", "b/x", "c/x"], 0.5)).toBeNull();
  });
});
