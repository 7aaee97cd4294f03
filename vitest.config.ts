import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: 2,
    // The suite's own runs must not write into a CI job's step summary (harness/cli/run-command.ts
    // appends there when it names a file); the test of that sets it for its own child.
    env: { GITHUB_STEP_SUMMARY: "" },
  },
});
