// Links through Toxiproxy: each link a proxy on a loopback port that forwards to its peer, which
// network faults slow down, take down and bring back on the same port; the embedded server is
// started on first use and stopped on close, a given Toxiproxy is left running without the
// proxies.

import http from "node:http";
import type { AddressInfo } from "node:net";
import { Toxiproxy } from "toxiproxy-node-client";
import { afterEach, describe, expect, it } from "vitest";
import { toxiproxyLinks, type ToxiproxyLinks } from "../../harness/runtime/toxiproxy-links.ts";
import { startToxiproxy } from "../../harness/toxiproxy/server.ts";

const releases: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (let release = releases.pop(); release !== undefined; release = releases.pop()) {
    await release().catch(() => {});
  }
});

/** An HTTP peer on loopback answering every request with its name. */
async function peer(name: string): Promise<string> {
  const server = http.createServer((_request, response) => response.end(name));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  releases.push(
    () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(resolve);
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function links(options?: Parameters<typeof toxiproxyLinks>[0]): ToxiproxyLinks {
  const opened = toxiproxyLinks(options);
  releases.push(() => opened.close());
  return opened;
}

/** GET through a fresh connection: the answer's body and how long it took, or the error code. */
async function get(url: string): Promise<{ body: string; ms: number } | { error: string }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const request = http.get(url, { agent: false, timeout: 5_000 }, (response) => {
      let body = "";
      response.on("data", (chunk: Buffer) => (body += chunk.toString()));
      response.on("end", () => resolve({ body, ms: Date.now() - started }));
    });
    request.on("timeout", () => request.destroy(new Error("timeout")));
    request.on("error", (error: NodeJS.ErrnoException) =>
      resolve({ error: error.code ?? error.message }),
    );
  });
}

describe("toxiproxy links", () => {
  it("gives each link a proxy on a loopback port that reaches its peer", async () => {
    const provider = links();
    const buffer = await peer("buffer");
    const config = await peer("config");
    const toBuffer = await provider.open({ name: "forwarder->buffer", upstream: buffer });
    const toConfig = await provider.open({ name: "forwarder->config", upstream: config });
    expect(toBuffer.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(toBuffer.url).not.toBe(buffer);
    expect(provider.names()).toEqual(["forwarder->buffer", "forwarder->config"]);
    expect(provider.proxyUrl("forwarder->config")).toBe(toConfig.url);
    expect(await get(toBuffer.url)).toMatchObject({ body: "buffer" });
    expect(await get(toConfig.url)).toMatchObject({ body: "config" });
  });

  it("adds and removes toxics on a link; removing one twice is not an error", async () => {
    const provider = links();
    const { url } = await provider.open({ name: "a->b", upstream: await peer("b") });
    const toxic = { name: "slow", type: "latency", stream: "downstream" as const };
    await provider.addToxic("a->b", { ...toxic, attributes: { latency: 300 } });
    const slowed = await get(url);
    expect(slowed).toMatchObject({ body: "b" });
    expect("ms" in slowed && slowed.ms).toBeGreaterThanOrEqual(280);
    await provider.removeToxic("a->b", "slow");
    await provider.removeToxic("a->b", "slow");
    const healed = await get(url);
    expect(healed).toMatchObject({ body: "b" });
    expect("ms" in healed && healed.ms).toBeLessThan(250);
  });

  it("takes a link down and brings it back on the same port", async () => {
    const provider = links();
    const { url } = await provider.open({ name: "a->b", upstream: await peer("b") });
    await provider.setEnabled("a->b", false);
    expect(await get(url)).toEqual({ error: "ECONNREFUSED" });
    await provider.setEnabled("a->b", true);
    expect(provider.proxyUrl("a->b")).toBe(url);
    expect(await get(url)).toMatchObject({ body: "b" });
  });

  it("names the proxied links when asked for one it does not have", async () => {
    const provider = links();
    await provider.open({ name: "a->b", upstream: await peer("b") });
    await expect(provider.setEnabled("a->c", false)).rejects.toThrow(
      'link "a->c" has no fault proxy; the proxied links are "a->b"',
    );
    await expect(provider.open({ name: "a->b", upstream: await peer("b") })).rejects.toThrow(
      'link "a->b" is already open',
    );
  });

  it("stops the embedded server on close and opens nothing after", async () => {
    const provider = links();
    const { url } = await provider.open({ name: "a->b", upstream: await peer("b") });
    const control = provider.controlUrl()!;
    await provider.close();
    expect(await get(url)).toEqual({ error: "ECONNREFUSED" });
    expect(await get(`${control}/version`)).toEqual({ error: "ECONNREFUSED" });
    await expect(provider.open({ name: "c->d", upstream: await peer("d") })).rejects.toThrow(
      "the links are closed",
    );
  });

  it("uses a given Toxiproxy, replacing a proxy left behind, and removes its proxies on close", async () => {
    const server = await startToxiproxy({ host: "127.0.0.1", port: 0 });
    releases.push(() => server.close());
    const client = new Toxiproxy(server.url);
    await client.createProxy({ name: "a->b", listen: "127.0.0.1:0", upstream: "127.0.0.1:1" });
    const provider = links({ url: server.url });
    const { url } = await provider.open({ name: "a->b", upstream: await peer("b") });
    expect(provider.controlUrl()).toBe(server.url);
    expect(await get(url)).toMatchObject({ body: "b" });
    await provider.close();
    expect(await client.getAll()).toEqual({});
    expect(await client.getVersion()).toBeTruthy();
  });
});
