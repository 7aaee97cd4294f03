// A temp dir for a test file, or for the describe that calls useTempDir: its path is known while
// the file loads; the folder is made before the suite's first hook and removed after its last,
// pass or fail (a hook that throws included). Under a `-t` filter that skips every test vitest
// runs no hook: nothing is made, so nothing is left behind, as a folder made while the file
// loads would be.

import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { aroundAll } from "vitest";

/** Registers the hook; returns the folder's path (`<tmpdir>/<prefix><12 hex digits>`). */
export function useTempDir(prefix: string): string {
  const directory = path.join(tmpdir(), `${prefix}${randomBytes(6).toString("hex")}`);
  aroundAll(async (runSuite) => {
    // Not recursive: a folder of that name already there is an error, as with mkdtemp.
    mkdirSync(directory, { mode: 0o700 });
    try {
      await runSuite();
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
  return directory;
}
