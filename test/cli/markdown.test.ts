// `spillway run --markdown <file>` writes the CI summary, replacing the file; with
// GITHUB_STEP_SUMMARY set, run appends the same summary to that file, as GitHub Actions expects
// of every step, keeping what earlier steps wrote.

import { execa } from "execa";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { useTempDir } from "../support/temp-dir.ts";

const CLI = path.resolve("harness/cli/main.ts");
const directory = useTempDir("spillway-markdown-");

describe("spillway run --markdown and GITHUB_STEP_SUMMARY", () => {
  it("writes the summary to --markdown and appends it to the step summary, keeping earlier steps", async () => {
    const markdownFile = path.join(directory, "summary.md");
    const stepSummary = path.join(directory, "step-summary.md");
    writeFileSync(markdownFile, "stale content that --markdown replaces\n");
    writeFileSync(stepSummary, "## an earlier step\n");
    const result = await execa(
      process.execPath,
      [
        CLI,
        "run",
        "sink-outage",
        "--runtime",
        "sim",
        "--compare",
        "legacy-2024,hardened",
        "--markdown",
        markdownFile,
      ],
      { reject: false, timeout: 60_000, env: { GITHUB_STEP_SUMMARY: stepSummary } },
    );
    expect(result.exitCode, result.stderr).toBe(0);
    const written = readFileSync(markdownFile, "utf8");
    expect(written).not.toContain("stale content");
    expect(written).toMatch(/^## sink-outage\n/);
    expect(written).toContain("| invariant | legacy-2024 | hardened |");
    expect(written).toContain("| no-silent-loss | violated ✓ | held ✓ |");
    expect(written).toMatch(/^\| lost silently in incident window \| [\d,]+ of /m);
    expect(readFileSync(stepSummary, "utf8")).toBe(`## an earlier step\n\n${written}`);
  });
});
