// Run directories name the harness that made them; `spillway clean` removes those whose harness
// is gone and leaves a live run's alone.

import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { cleanRunDirs, createRunDir } from "../../harness/runtime/run-dir.ts";

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), "spillway-run-dir-test-"));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** A run dir as a harness that has since died left it. */
function deadRunDir(name: string, run?: string): string {
  const dir = path.join(root, `spillway-run-${name}`);
  mkdirSync(path.join(dir, "logs"), { recursive: true });
  // A pid that cannot exist (above pid_max) stands for a dead harness.
  writeFileSync(
    path.join(dir, "harness.json"),
    JSON.stringify({ harness: `${hostname()}:4194305:1`, run }),
  );
  return dir;
}

it("a run dir has logs/ and names this harness; clean leaves it while the harness runs", async () => {
  const live = await createRunDir({ root, runId: "r-live" });
  expect(existsSync(path.join(live, "logs"))).toBe(true);
  const report = await cleanRunDirs({ root });
  expect(report).toEqual({ removed: [], live: [live], endedGroups: [] });
  expect(existsSync(live)).toBe(true);
  expect((await cleanRunDirs({ root, all: true })).removed).toEqual([live]);
  expect(existsSync(live)).toBe(false);
});

it("removes the dirs of dead harnesses, only one run's with runId, nothing on a dry run", async () => {
  const first = deadRunDir("a", "r-1");
  const second = deadRunDir("b", "r-2");
  expect((await cleanRunDirs({ root, dryRun: true })).removed).toEqual([first, second]);
  expect(existsSync(first) && existsSync(second)).toBe(true);
  expect((await cleanRunDirs({ root, runId: "r-2" })).removed).toEqual([second]);
  expect(existsSync(first)).toBe(true);
  expect((await cleanRunDirs({ root })).removed).toEqual([first]);
  expect(existsSync(first)).toBe(false);
});

it("a dir without its owner file is left alone for a minute (its harness may be writing it)", async () => {
  const fresh = path.join(root, "spillway-run-fresh");
  const old = path.join(root, "spillway-run-old");
  mkdirSync(fresh);
  mkdirSync(old);
  const hourAgo = new Date(Date.now() - 3_600_000);
  utimesSync(old, hourAgo, hourAgo);
  // Not a run dir at all: never touched.
  writeFileSync(path.join(root, "spillway-run-file"), "");
  mkdirSync(path.join(root, "other-dir"));
  expect((await cleanRunDirs({ root })).removed).toEqual([old]);
  expect(existsSync(fresh)).toBe(true);
  expect(existsSync(path.join(root, "other-dir"))).toBe(true);
});
