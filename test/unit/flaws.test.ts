import { describe, expect, it } from "vitest";
import {
  FLAW_NAMES,
  FLAWS,
  INCIDENT_FLAWS,
  parseFlawList,
  resolveFlaws,
} from "../../pipeline/core/flaws.ts";

describe("profiles and flaws", () => {
  it("legacy-2024 switches on every flaw of the incident and hardened none", () => {
    expect(INCIDENT_FLAWS).toHaveLength(7);
    expect(resolveFlaws("legacy-2024").list()).toEqual(INCIDENT_FLAWS);
    expect(resolveFlaws("hardened").list()).toEqual([]);
  });

  it("a flaw not from the incident is off in both profiles and can be switched on alone", () => {
    const extra = FLAW_NAMES.filter((flaw) => !FLAWS[flaw].incident);
    expect(extra).toEqual(["pusher.keepsStaleDestination"]);
    for (const profile of ["legacy-2024", "hardened"])
      expect(resolveFlaws(profile).has("pusher.keepsStaleDestination")).toBe(false);
    expect(resolveFlaws("hardened", extra).list()).toEqual(extra);
  });

  it("an explicit flaw list replaces the profile's flaws", () => {
    const flaws = resolveFlaws("hardened", parseFlawList("buffer.ackBeforeDurable, "));
    expect(flaws.list()).toEqual(["buffer.ackBeforeDurable"]);
  });

  it("names the unknown profile and the unknown flaw", () => {
    expect(() => resolveFlaws("softened")).toThrow(/profile "softened" is unknown/);
    expect(() => resolveFlaws("hardened", ["buffer.leaky"])).toThrow(/flaw "buffer.leaky"/);
  });
});
