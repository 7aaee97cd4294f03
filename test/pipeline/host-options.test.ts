// The component command line: --parent-pid takes any process id a host can hand out (pids go
// above 65535 where kernel.pid_max is raised, as systemd does), and a bad value is refused with
// the option and the value named.

import { execa } from "execa";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { MAX_PID, portNumber, processId } from "../../pipeline/host/options.ts";
import { useTempDir } from "../support/temp-dir.ts";

const MAIN = path.resolve("pipeline/host/main.ts");
const dataDir = useTempDir("spillway-host-options-");

describe("processId", () => {
  it.each(["1", "65536", "70000", "4194304"])("accepts %s", (value) => {
    expect(processId(value)).toBe(Number(value));
  });

  it.each(["0", "-1", "4194305", "1.5", "1e5", "0x10", " 7", "", "abc"])(
    "refuses %j, naming it and the range",
    (value) => {
      expect(() => processId(value)).toThrow(
        `"${value}" is not a process id (an integer from 1 to ${MAX_PID})`,
      );
    },
  );
});

describe("portNumber", () => {
  it.each(["0", "8474", "65535"])("accepts %s", (value) => {
    expect(portNumber(value)).toBe(Number(value));
  });

  it.each(["65536", "-1", "80.5", "0x50", ""])("refuses %j, naming it", (value) => {
    expect(() => portNumber(value)).toThrow(`"${value}" is not a port number (0-65535)`);
  });
});

describe("a component process", () => {
  it("starts with a parent pid above 65535, then exits 0 since that is not its parent", async () => {
    const result = await execa(process.execPath, [MAIN, "sink", "--data-dir", dataDir], {
      env: { SPILLWAY_PARENT_PID: "70000" },
      reject: false,
      timeout: 20_000,
    });
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/"msg":"ready"/);
    expect(result.stdout).toMatch(/"reason":"parent gone"/);
  });

  it("exits 2 on a parent pid out of range, naming the option and the value", async () => {
    const result = await execa(
      process.execPath,
      [MAIN, "sink", "--data-dir", dataDir, "--parent-pid", "4194305"],
      { reject: false, timeout: 20_000 },
    );
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(
      `option '--parent-pid <pid>' argument '4194305' is invalid. "4194305" is not a process id (an integer from 1 to ${MAX_PID})`,
    );
  });
});
