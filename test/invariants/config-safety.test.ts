import { describe, expect, it } from "vitest";
import { checkConfigSafety } from "../../harness/invariants/config-safety.ts";
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

const EMPTY = "empty config: it would remove all 40 configured pairs";

describe("config-safety", () => {
  it("holds when every config considered was valid", () => {
    const result = checkConfigSafety(observations());
    expect(result.status).toBe("held");
    expect(result.summary).toBe("1 config considered by the forwarder, all valid");
    expect(result.evidence).toEqual({
      decisions: 1,
      invalid: 0,
      appliedInvalid: [],
      refusedInvalid: [],
      failOpenDecisions: 0,
    });
  });

  it("holds when invalid configs came and every one was refused", () => {
    const configDecisions = [
      decision(0, { version: 1 }),
      decision(5_000, { version: 2, valid: false, applied: false, reason: EMPTY }),
      decision(6_000, { version: null, valid: false, applied: false, reason: "malformed JSON" }),
      decision(9_000, { version: 3 }),
    ];
    const result = checkConfigSafety(observations({ configDecisions }));
    expect(result.status).toBe("held");
    expect(result.summary).toBe("2 invalid configs of 4 considered, every one refused");
    expect(result.evidence.refusedInvalid).toEqual([
      { version: 2, at: at(5_000), reason: EMPTY, failOpen: false },
      { version: null, at: at(6_000), reason: "malformed JSON", failOpen: false },
    ]);
  });

  it("is violated by an invalid config that was applied, naming its version, time and reason", () => {
    const configDecisions = [
      decision(0, { version: 1 }),
      decision(12_000, { version: 7, valid: false, applied: true, reason: EMPTY }),
      decision(20_000, { version: 8, failOpen: true }),
    ];
    const result = checkConfigSafety(observations({ configDecisions }));
    expect(result.status).toBe("violated");
    expect(result.summary).toBe(`1 invalid config applied; first: version 7 at +12.0 s (${EMPTY})`);
    expect(result.evidence).toEqual({
      decisions: 3,
      invalid: 1,
      appliedInvalid: [{ version: 7, at: at(12_000), reason: EMPTY, failOpen: false }],
      refusedInvalid: [],
      failOpenDecisions: 1,
    });
  });

  it("is unknown when no decision was recorded", () => {
    const result = checkConfigSafety(observations({ configDecisions: [] }));
    expect(result.status).toBe("unknown");
    expect(result.summary).toMatch(/^no config decision of the forwarder was recorded/);
    expect(result.evidence).toMatchObject({ decisions: 0 });
  });
});
