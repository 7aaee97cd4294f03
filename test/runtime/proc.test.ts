// parseStat (harness/runtime/process/proc.ts) reads the fields after the command name, which may
// itself hold spaces and parentheses.
import { describe, expect, it } from "vitest";
import { parseStat, readStat } from "../../harness/runtime/process/proc.ts";

describe("parseStat", () => {
  it("reads state, parent, group, start time and CPU ticks past a command with ') ' in it", () => {
    // Fields 14 and 15 (utime, stime) are 250 and 37; field 22 (starttime) is 98765.
    const text =
      "4242 (a) b (c) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 37 0 0 20 0 1 0 98765 1000 50 0";
    expect(parseStat(text)).toEqual({
      command: "a) b (c",
      state: "S",
      ppid: 1,
      pgrp: 4242,
      startTime: "98765",
      cpuTicks: 287,
    });
  });

  it("reads this process from /proc, CPU ticks a whole number", () => {
    const stat = readStat(process.pid);
    expect(stat?.ppid).toBe(process.ppid);
    expect(Number.isInteger(stat?.cpuTicks)).toBe(true);
  });
});
