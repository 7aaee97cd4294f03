// bounded-buffer judges the buffer's memory only: a memory cap that kills the pusher is the
// pusher's, and leaves hardened's bounded-buffer held, with the kill in the evidence. On the
// simulator; the same experiment on real processes once (a few seconds).

import { describe, expect, it } from "vitest";
import type { Journal } from "../../harness/experiment/journal.ts";
import { runExperiment } from "../../harness/experiment/runner.ts";
import { runSmall, smallExperiment } from "./small-experiment.ts";

const pusherCapped = smallExperiment("pusher-memory-cap", {
  duration: "6s",
  method: [
    {
      at: "1s",
      for: "1s",
      fault: { kind: "process.memory-cap", service: "pusher", megabytes: 1 },
    },
  ],
});

function expectPusherKilledBufferHeld(journal: Journal): void {
  expect(journal.status, journal.error).toBe("completed");
  expect(journal.notes.map((note) => note.message)).toContain(
    "pusher restarted after the memory cap killed it",
  );
  const bounded = journal.verdict!.invariants["bounded-buffer"]!;
  expect(bounded.status, bounded.summary).toBe("held");
  expect(bounded.evidence.memory).toMatchObject({
    exceeded: 0,
    otherServices: [{ service: "pusher", events: 1 }],
  });
  expect(bounded.summary).toContain("memory events of other services, not the buffer's: pusher 1");
}

describe("a memory cap on the pusher is not the buffer's", () => {
  it("on the simulator: hardened's bounded-buffer holds, the pusher's kill in its evidence", async () => {
    expectPusherKilledBufferHeld(await runSmall(pusherCapped));
  });

  it("on processes: the same", { timeout: 60_000 }, async () => {
    expectPusherKilledBufferHeld(
      await runExperiment(pusherCapped, { profile: "hardened", seed: 1 }),
    );
  });
});
