// Busy polling (harness/toxiproxy/busy-poll.ts; docs/toxiproxy.md, "Busy polling"): after a read
// the event loop keeps turning without sleeping for the window, then sleeps again; with a window
// of 0 it never polls. Data and toxics behave the same either way.
import { Toxiproxy } from "toxiproxy-node-client";
import { describe, expect, it } from "vitest";
import { BusyPoll } from "../../harness/toxiproxy/busy-poll.ts";
import { startToxiproxy } from "../../harness/toxiproxy/server.ts";
import {
  client,
  echoServer,
  expectToxicGovernsWhatFollows,
  portOf,
  proxyInFront,
  useCleanup,
} from "./helpers.ts";

/** Immediates pending now: while one is, libuv polls without sleeping. */
const pendingImmediates = (): number =>
  process.getActiveResourcesInfo().filter((kind) => kind === "Immediate").length;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("busy polling", () => {
  const defer = useCleanup();

  /** A poller on the test's own time and preemption count, moved by hand. */
  function handDriven(windowUs: number) {
    const sources = { now: 0, preempted: 0 };
    const poll = new BusyPoll(windowUs, {
      nowMs: () => sources.now,
      preemptions: () => sources.preempted,
    });
    return { poll, sources };
  }

  it("keeps an immediate pending for the window after a read, then none", async () => {
    const { poll, sources } = handDriven(200);
    const before = pendingImmediates();
    poll.afterRead();
    expect(pendingImmediates()).toBe(before + 1);
    // Turn after turn inside the window, the poller has armed its next immediate.
    for (const nowMs of [0.05, 0.1, 0.199]) {
      sources.now = nowMs;
      await nextTurn();
      expect(pendingImmediates()).toBeGreaterThan(before);
    }
    // The window is over: its next turn arms none.
    sources.now = 0.2;
    await nextTurn();
    await nextTurn();
    expect(pendingImmediates()).toBe(before);
  });

  it("ends a stretch of polling once the process is preempted, until the next read", async () => {
    const { poll, sources } = handDriven(200);
    const before = pendingImmediates();
    poll.afterRead();
    await nextTurn();
    expect(pendingImmediates()).toBeGreaterThan(before);
    // Another task took the CPU: the poller's next turn stops, inside its window.
    sources.preempted += 1;
    await nextTurn();
    await nextTurn();
    expect(pendingImmediates()).toBe(before);
    // The next read polls again, counting from the preemptions by then.
    poll.afterRead();
    await nextTurn();
    expect(pendingImmediates()).toBeGreaterThan(before);
    // Its window ends, and the poller with it: nothing is left turning after the test.
    sources.now = 1;
    await nextTurn();
    await nextTurn();
    expect(pendingImmediates()).toBe(before);
  });

  it("never polls with a window of 0", () => {
    const poll = new BusyPoll(0);
    const before = pendingImmediates();
    poll.afterRead();
    expect(pendingImmediates()).toBe(before);
  });

  it("refuses a window out of range, naming it", async () => {
    expect(() => new BusyPoll(10_001)).toThrow(/10001 µs: expected an integer from 0 to 10000/);
    await expect(startToxiproxy({ port: 0, busyPollUs: -1 })).rejects.toThrow(
      /busyPollUs -1: expected an integer from 0 to 10000/,
    );
  });

  it("carries data and applies a toxic added to a live connection, as without it", async () => {
    const server = await startToxiproxy({ host: "127.0.0.1", port: 0, busyPollUs: 500 });
    defer(() => server.close());
    const proxy = await proxyInFront(new Toxiproxy(server.url), await echoServer(defer));
    await expectToxicGovernsWhatFollows(proxy, await client(defer, portOf(proxy.listen)));
  });
});
