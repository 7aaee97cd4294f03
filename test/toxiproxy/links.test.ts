// The harness's link proxies: the same calls against an embedded server or a user's Toxiproxy.
import { Toxiproxy } from "toxiproxy-node-client";
import { describe, expect, it } from "vitest";
import { openLinkProxies, type LinkProxies } from "../../harness/toxiproxy/links.ts";
import { startToxiproxy } from "../../harness/toxiproxy/server.ts";
import {
  client,
  closedPort,
  echoServer,
  embeddedToxiproxy,
  roundTripMs,
  settlesWithin,
  useCleanup,
  type Defer,
} from "./helpers.ts";

async function open(
  defer: Defer,
  ...args: Parameters<typeof openLinkProxies>
): Promise<LinkProxies> {
  const proxies = await openLinkProxies(...args);
  defer(() => proxies.close());
  return proxies;
}

describe("link proxies", () => {
  const defer = useCleanup();

  it("starts an embedded server and gives each link a proxy on a free loopback port", async () => {
    const upstream = await echoServer(defer);
    const proxies = await open(defer, [
      { name: "forwarder-buffer", upstream: upstream.address },
      { name: "buffer-pusher", upstream: upstream.address },
    ]);
    expect(proxies.links.map((link) => link.name)).toEqual(["forwarder-buffer", "buffer-pusher"]);
    for (const link of proxies.links) {
      expect(link).toMatchObject({ host: "127.0.0.1", upstream: upstream.address });
      expect(link.listen).toBe(`127.0.0.1:${link.port}`);
      expect(await roundTripMs(await client(defer, link.port))).toBeLessThan(1000);
    }
  });

  it("gives fault code the proxy to add toxics to", async () => {
    const upstream = await echoServer(defer);
    const proxies = await open(defer, [{ name: "a", upstream: upstream.address }]);
    const link = proxies.link("a");
    await link.proxy.addToxic({ type: "latency", attributes: { latency: 150 } } as never);
    expect(await roundTripMs(await client(defer, link.port))).toBeGreaterThanOrEqual(145);
  });

  it("uses a Toxiproxy given by URL, leaving the server running after close", async () => {
    const server = await embeddedToxiproxy(defer);
    const upstream = `127.0.0.1:${await closedPort()}`;
    const proxies = await openLinkProxies([{ name: "a", upstream }], { toxiproxyUrl: server.url });
    defer(() => proxies.close());
    expect(proxies.toxiproxyUrl).toBe(server.url);
    const toxiproxy = new Toxiproxy(server.url);
    expect(Object.keys(await toxiproxy.getAll())).toEqual(["a"]);
    await proxies.close();
    expect(await toxiproxy.getAll()).toEqual({});
    expect(JSON.parse(await toxiproxy.getVersion())).toEqual({ version: "2.12.0" });
  });

  it("replaces a proxy of the same name left behind by an earlier run", async () => {
    const server = await embeddedToxiproxy(defer);
    const toxiproxy = new Toxiproxy(server.url);
    const upstream = `127.0.0.1:${await closedPort()}`;
    const leftover = await toxiproxy.createProxy({
      name: "a",
      listen: "127.0.0.1:0",
      upstream: "127.0.0.1:1",
    });
    await leftover.addToxic({ type: "timeout", attributes: {} } as never);
    const proxies = await open(defer, [{ name: "a", upstream }], { toxiproxyUrl: server.url });
    expect((await toxiproxy.get("a")).upstream).toBe(upstream);
    await expect(proxies.link("a").proxy.getToxic("timeout_downstream")).rejects.toThrow("404");
  });

  it("honours a listen address given for a link", async () => {
    const port = await closedPort();
    const proxies = await open(defer, [
      { name: "a", listen: `127.0.0.1:${port}`, upstream: `127.0.0.1:${await closedPort()}` },
    ]);
    expect(proxies.link("a").port).toBe(port);
  });

  it("close removes the proxies and stops the embedded server", async () => {
    const upstream = await echoServer(defer);
    const proxies = await openLinkProxies([{ name: "a", upstream: upstream.address }]);
    defer(() => proxies.close());
    const connection = await client(defer, proxies.link("a").port);
    await proxies.close();
    await proxies.close();
    expect(await settlesWithin(connection.transcript, 2000)).toBe(true);
    await expect(fetch(`${proxies.toxiproxyUrl}/version`)).rejects.toThrow();
  });

  it("names the link it does not know, and the ones it does", async () => {
    const proxies = await open(defer, [{ name: "a", upstream: `127.0.0.1:${await closedPort()}` }]);
    expect(() => proxies.link("b")).toThrow('no link named "b"; the links are "a"');
  });

  it.each([
    [[{ name: "", upstream: "127.0.0.1:1" }], 'link 1: name "" must be non-empty'],
    [[{ name: "a", upstream: "nowhere" }], 'link 1 "a": upstream "nowhere" is not "host:port"'],
    [[{ name: "a", upstream: "127.0.0.1:1", listen: "8080" }], 'link 1 "a": listen "8080"'],
    [
      [
        { name: "a", upstream: "127.0.0.1:1" },
        { name: "a", upstream: "127.0.0.1:2" },
      ],
      'link 2: name "a" is used twice',
    ],
  ])("refuses a bad topology %j before starting anything", async (topology, message) => {
    await expect(openLinkProxies(topology)).rejects.toThrow(message);
  });

  it("cleans up what it created when a link cannot be created", async () => {
    const server = await embeddedToxiproxy(defer);
    const blocker = await startToxiproxy({ port: 0 });
    defer(() => blocker.close());
    const taken = `127.0.0.1:${blocker.port}`;
    const upstream = `127.0.0.1:${await closedPort()}`;
    await expect(
      openLinkProxies(
        [
          { name: "ok", upstream },
          { name: "clash", listen: taken, upstream },
        ],
        { toxiproxyUrl: server.url },
      ),
    ).rejects.toThrow(/creating link proxies on http:\/\/127\.0\.0\.1:\d+ failed/);
    expect(await new Toxiproxy(server.url).getAll()).toEqual({});
  });
});
