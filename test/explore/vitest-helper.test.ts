// `spillway/vitest` in a user's own project (docs/simulator.md, "The regression corpus"): a
// project that has Spillway under node_modules (a symlink, as `npm install <path>` makes) and a
// test file of two lines gets one test per schedule file, named after it; one that does not come
// out as its file says fails with the file and the command that replays it. The project's own
// vitest run is a separate process in a temp folder.

import { execa } from "execa";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";
import { useTempDir } from "../support/temp-dir.ts";

const project = useTempDir("spillway-user-suite-");

it("replays a user's corpus as one test per file, failing the one not as its file says", async () => {
  mkdirSync(path.join(project, "node_modules"));
  symlinkSync(path.resolve("."), path.join(project, "node_modules", "spillway"));
  symlinkSync(path.resolve("node_modules/vitest"), path.join(project, "node_modules", "vitest"));
  writeFileSync(
    path.join(project, "package.json"),
    JSON.stringify({ name: "user-suite", type: "module", private: true }),
  );
  const holds = JSON.parse(
    readFileSync("experiments/regressions/fixed-late-config-answer.json", "utf8"),
  ) as Record<string, unknown>;
  mkdirSync(path.join(project, "regressions"));
  writeFileSync(path.join(project, "regressions", "holds.json"), JSON.stringify(holds));
  writeFileSync(
    path.join(project, "regressions", "flipped.json"),
    JSON.stringify({ ...holds, expect: "reproduce" }),
  );
  writeFileSync(
    path.join(project, "corpus.test.ts"),
    'import { replayCorpus } from "spillway/vitest";\nreplayCorpus("regressions");\n',
  );
  const result = await execa(
    process.execPath,
    [path.resolve("node_modules/vitest/vitest.mjs"), "run", "--reporter=verbose"],
    {
      cwd: project,
      reject: false,
      timeout: 120_000,
      env: { PATH: process.env.PATH, NO_COLOR: "1", CI: "true" },
      extendEnv: false,
    },
  );
  const output = result.stdout + result.stderr;
  expect(result.exitCode, output).toBe(1);
  expect(output).toMatch(/✓ .*regressions\/holds\.json/);
  expect(output).toMatch(/× .*regressions\/flipped\.json/);
  expect(output).toContain(
    "regressions/flipped.json: expected no-silent-loss violated, saw it held; replay it with spillway replay regressions/flipped.json --runtime sim",
  );
  expect(output).toMatch(/Tests +1 failed \| 1 passed \(2\)/);
}, 150_000);
