// The container suite fails instead of skipping in CI: any CI value counts but an empty one,
// "false" and "0".

import { describe, expect, it } from "vitest";
import { inContinuousIntegration } from "./ci.ts";

describe("inContinuousIntegration", () => {
  it.each(["true", "1", "yes", "woodpecker", "TRUE", " true "])("counts CI=%j", (value) => {
    expect(inContinuousIntegration(value)).toBe(true);
  });

  it.each([undefined, "", "  ", "false", "False", "0"])("does not count CI=%j", (value) => {
    expect(inContinuousIntegration(value)).toBe(false);
  });
});
