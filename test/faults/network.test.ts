// Network faults on the reference pipeline running as processes with a fault proxy on every
// link: what the forwarder's caller sees while a toxic or a link-down is in force, and after
// the heal.

import { describe, expect, it } from "vitest";
import { NETWORK_FAULTS } from "../../harness/faults/network.ts";
import type { FaultStepInput } from "../../harness/faults/registry.ts";
import { ingest, useFaultRig } from "./support.ts";

const rig = useFaultRig({ proxies: true });

/** The toxics on a link's proxy, as the Toxiproxy API lists them. */
async function toxicsOn(link: string): Promise<Array<Record<string, unknown>>> {
  const control = rig().links!.controlUrl()!;
  const response = await fetch(`${control}/proxies/${encodeURIComponent(link)}/toxics`);
  return (await response.json()) as Array<Record<string, unknown>>;
}

/** Each toxic's attributes, chosen to leave the link usable. */
const TOXIC_ATTRIBUTES: Record<string, Record<string, number>> = {
  latency: { latency: 10, jitter: 2 },
  bandwidth: { rate: 1_000 },
  slow_close: { delay: 10 },
  timeout: { timeout: 1_000 },
  reset_peer: { timeout: 5 },
  slicer: { average_size: 64, size_variation: 8 },
  limit_data: { bytes: 1_000_000 },
};

describe("network faults on processes", () => {
  it("network.latency on forwarder->buffer delays an ingest by about the latency; heal removes it", async () => {
    expect((await ingest(rig())).status).toBe(200);
    const fault = await rig().inject({
      kind: "network.latency",
      link: "forwarder->buffer",
      latency: 300,
    });
    const delayed = await ingest(rig());
    expect(delayed.status).toBe(200);
    // Under the forwarder's 500 ms buffer timeout, so that the append is not retried.
    expect(delayed.ms).toBeGreaterThanOrEqual(280);
    expect(delayed.ms).toBeLessThan(300 + 1_500);
    await fault.heal();
    const healed = await ingest(rig());
    expect(healed.status).toBe(200);
    expect(healed.ms).toBeLessThan(300);
  });

  it('network.latency with stream "both" delays the request and the answer', async () => {
    await rig().inject({
      kind: "network.latency",
      link: "forwarder->buffer",
      latency: 150,
      stream: "both",
    });
    const delayed = await ingest(rig());
    expect(delayed.status).toBe(200);
    expect(delayed.ms).toBeGreaterThanOrEqual(280);
  });

  it("network.down on forwarder->buffer makes the hardened forwarder push back with 503; heal restores 200", async () => {
    const fault = await rig().inject({ kind: "network.down", link: "forwarder->buffer" });
    const refused = await ingest(rig());
    expect(refused.status).toBe(503);
    expect(refused.body).toContain("ECONNREFUSED");
    expect(refused.headers.get("retry-after-ms")).not.toBeNull();
    await fault.heal();
    expect((await ingest(rig())).status).toBe(200);
  });

  it("network.timeout of 0 on forwarder->buffer holds appends until the forwarder gives up with 503", async () => {
    const fault = await rig().inject({
      kind: "network.timeout",
      link: "forwarder->buffer",
      timeout: 0,
    });
    const held = await ingest(rig());
    expect(held.status).toBe(503);
    // Three attempts of bufferTimeoutMs (500 ms) each, with backoff between them.
    expect(held.ms).toBeGreaterThanOrEqual(1_400);
    await fault.heal();
    expect((await ingest(rig())).status).toBe(200);
  });

  it("network.reset_peer on forwarder->buffer answers the caller 503, not 200; heal restores 200", async () => {
    const fault = await rig().inject({
      kind: "network.reset_peer",
      link: "forwarder->buffer",
      timeout: 0,
      stream: "upstream",
    });
    expect((await ingest(rig())).status).toBe(503);
    await fault.heal();
    expect((await ingest(rig())).status).toBe(200);
  });

  it.each(NETWORK_FAULTS.filter((kind) => kind.name !== "network.down").map((kind) => kind.name))(
    "%s puts its toxic on the link's proxy, with its attributes, and heal takes it off",
    async (name) => {
      const type = name.slice("network.".length);
      const attributes = TOXIC_ATTRIBUTES[type]!;
      const step = { kind: name, link: "buffer->config", ...attributes } as FaultStepInput;
      const fault = await rig().inject(step);
      expect(await toxicsOn("buffer->config")).toEqual([
        expect.objectContaining({
          type,
          stream: "downstream",
          toxicity: 1,
          attributes: expect.objectContaining(attributes) as unknown,
        }),
      ]);
      await fault.heal();
      await fault.heal();
      expect(await toxicsOn("buffer->config")).toEqual([]);
    },
  );

  it("a network fault on a topology without proxies fails, saying how to get them", async () => {
    await expect(
      rig().inject({ kind: "network.down", link: "forwarder->buffer" }, { links: null }),
    ).rejects.toThrow("network.down needs a fault proxy on every link");
  });

  it("writes what it did to the journal", () => {
    expect(rig().notes).toContain("link forwarder->buffer down");
    expect(rig().notes).toContain("link forwarder->buffer up");
    expect(rig().notes.some((line) => line.startsWith("latency on forwarder->buffer"))).toBe(true);
  });
});
