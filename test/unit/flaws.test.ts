import { describe, expect, it } from "vitest";
import { FLAW_NAMES, parseFlawList, resolveFlaws } from "../../pipeline/core/flaws.ts";

describe("profiles and flaws", () => {
  it("legacy-2024 switches on every flaw and hardened none", () => {
    expect(resolveFlaws("legacy-2024").list()).toEqual(FLAW_NAMES);
    expect(resolveFlaws("hardened").list()).toEqual([]);
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
