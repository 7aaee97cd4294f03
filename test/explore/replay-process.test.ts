// A schedule that exploration found on the simulator, replayed with `spillway replay --runtime
// process`, violates the same invariant on real processes: for two flaws alone.

import { execa } from "execa";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { explore } from "../../harness/explore/explore.ts";
import { writeSchedule } from "../../harness/explore/schedule.ts";
import type { Journal } from "../../harness/experiment/journal.ts";
import type { Flaw } from "../../pipeline/core/flaws.ts";
import { useTempDir } from "../support/temp-dir.ts";

const CLI = path.resolve("harness/cli/main.ts");
const directory = useTempDir("spillway-replay-");

describe.each<Flaw>(["forwarder.appliesEmptyConfig", "buffer.ackBeforeDurable"])(
  "%s alone",
  (flaw) => {
    it(
      "the schedule found on the simulator violates the same invariant on processes",
      { timeout: 240_000 },
      async () => {
        const found = await explore({ profile: "hardened", flaws: [flaw], runs: 500, seed: 1 });
        expect(found.found).toBe(true);
        const file = path.join(directory, `${flaw}.json`);
        await writeSchedule(file, found.schedule!);
        const journalFile = path.join(directory, `${flaw}.journal.json`);
        const replay = await execa(
          process.execPath,
          [CLI, "replay", file, "--runtime", "process", "--journal", journalFile],
          { reject: false, timeout: 200_000 },
        );
        expect(replay.exitCode, replay.stdout + replay.stderr).toBe(0);
        expect(replay.stdout).toContain(
          `reproduced: ${found.invariant} violated on process, as recorded`,
        );
        const journal = JSON.parse(readFileSync(journalFile, "utf8")) as Journal;
        expect(journal.runtime).toBe("process");
        expect(journal.verdict?.invariants[found.invariant!]?.status).toBe("violated");
      },
    );
  },
);
