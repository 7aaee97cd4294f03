// The registry itself; what happens on a real SIGINT/SIGTERM is in nothing-left-behind.test.ts.

import { afterEach, describe, expect, it } from "vitest";
import { pendingCleanups, registerCleanup, runCleanups } from "../../harness/runtime/cleanup.ts";

const unregisters: (() => void)[] = [];
afterEach(() => unregisters.splice(0).forEach((unregister) => unregister()));

function register(label: string, run: () => Promise<void>): () => void {
  const unregister = registerCleanup({ label, run });
  unregisters.push(unregister);
  return unregister;
}

describe("cleanup registry", () => {
  it("runs the cleanups newest first", async () => {
    const ran: string[] = [];
    register("first", async () => void ran.push("first"));
    register("second", async () => void ran.push("second"));
    expect(await runCleanups()).toEqual([]);
    expect(ran).toEqual(["second", "first"]);
  });

  it("runs every cleanup even when one fails, and reports the failure with its label", async () => {
    const ran: string[] = [];
    register("first", async () => void ran.push("first"));
    register("topology", async () => {
      throw new Error("port still bound");
    });
    const failures = await runCleanups();
    expect(ran).toEqual(["first"]);
    expect(failures.map((failure) => failure.message)).toEqual(["topology: port still bound"]);
  });

  it("forgets an unregistered cleanup", async () => {
    const ran: string[] = [];
    const unregister = register("gone", async () => void ran.push("gone"));
    unregister();
    unregister();
    await runCleanups();
    expect(ran).toEqual([]);
    expect(pendingCleanups()).toBe(0);
  });

  it("handles SIGINT, SIGTERM and SIGHUP only while something is registered", () => {
    const before = ["SIGINT", "SIGTERM", "SIGHUP", "exit"].map((event) =>
      process.listenerCount(event),
    );
    const unregister = register("something", async () => {});
    const during = ["SIGINT", "SIGTERM", "SIGHUP", "exit"].map((event) =>
      process.listenerCount(event),
    );
    expect(during).toEqual(before.map((count) => count + 1));
    unregister();
    expect(
      ["SIGINT", "SIGTERM", "SIGHUP", "exit"].map((event) => process.listenerCount(event)),
    ).toEqual(before);
  });
});
