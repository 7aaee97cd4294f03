// The pusher pauses after any lease answer that did not wait: a buffer that does not know the
// job yet answers 404 at once, and a pusher that asked again straight away turned its loop into
// a busy loop against the buffer (found by explore). Run under the simulator's virtual clock so
// the count of leases per second is exact, not a timing.

import { describe, expect, it } from "vitest";
import { COMPONENT_FACTORIES } from "../../pipeline/components.ts";
import { resolveFlaws } from "../../pipeline/core/flaws.ts";
import { resolveLimits } from "../../pipeline/core/limits.ts";
import type { HttpResponse, Net, OutgoingRequest } from "../../pipeline/core/seam.ts";
import { Scheduler } from "../../harness/runtime/sim/scheduler.ts";
import { MemoryDisk, quietLog } from "../support/in-process.ts";

const CONFIG = JSON.stringify({
  version: 1,
  generatedAt: 0,
  jobs: [
    { id: "job-0", tenant: "t0", dataset: "dns", destination: "sink-0/t0.dns", enabled: true },
  ],
});

/** Leases one pusher asks for in `runMs` of virtual time when every lease gets `answer`. */
async function leasesIn(runMs: number, answer: HttpResponse): Promise<number> {
  const scheduler = new Scheduler();
  const clock = scheduler.clock();
  let leases = 0;
  const net: Net = {
    request: (request: OutgoingRequest) =>
      new Promise((resolve) => {
        const path = new URL(request.url).pathname;
        if (path === "/lease") leases++;
        const response =
          path === "/config"
            ? { status: 200, body: CONFIG }
            : path === "/lease"
              ? answer
              : { status: 200, body: "{}" };
        // One millisecond there and back, answered at once.
        clock.schedule(1, () => resolve(response));
      }),
  };
  const limits = resolveLimits({});
  const pusher = COMPONENT_FACTORIES.pusher({
    seam: { clock, rng: { next: () => 0.5 }, net, disk: new MemoryDisk(), log: quietLog },
    flaws: resolveFlaws("hardened"),
    limits,
    instance: "pusher",
    peers: { config: "http://config", buffer: "http://buffer", "sink-0": "http://sink-0" },
  });
  await scheduler.run(
    async () => {
      await pusher.start();
      await clock.sleep(runMs);
      await pusher.stop();
    },
    { maxVirtualMs: runMs + 60_000 },
  );
  return leases;
}

describe("the pusher against a buffer that answers leases at once", () => {
  // The pause after such an answer is backoffMs(limits, 2, ·): at least 100 ms with the
  // defaults, so at most about 10 leases a second; a busy loop would ask about 500 times.
  it("pauses after a 404 (a buffer that does not know the job)", async () => {
    const leases = await leasesIn(2_000, { status: 404, body: '{"error":"no such buffer"}' });
    expect(leases).toBeGreaterThan(3);
    expect(leases).toBeLessThanOrEqual(25);
  });

  it("pauses after an empty answer that came before the lease's wait was over", async () => {
    const leases = await leasesIn(2_000, { status: 204, body: "" });
    expect(leases).toBeGreaterThan(3);
    expect(leases).toBeLessThanOrEqual(25);
  });
});
