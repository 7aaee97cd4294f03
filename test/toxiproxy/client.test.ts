// Compatibility: the server driven only through toxiproxy-node-client 4.x, every method, with
// the objects it returns checked field by field.
import { Toxiproxy, ToxiproxyError, type Proxy } from "toxiproxy-node-client";
import { beforeEach, describe, expect, it } from "vitest";
import { closedPort, embeddedToxiproxy, portOf, useCleanup } from "./helpers.ts";

describe("toxiproxy-node-client against the embedded server", () => {
  const defer = useCleanup();
  let toxiproxy: Toxiproxy;
  let upstream: string;

  beforeEach(async () => {
    const server = await embeddedToxiproxy(defer);
    toxiproxy = new Toxiproxy(server.url);
    upstream = `127.0.0.1:${await closedPort()}`;
  });

  const create = (name: string, listen = "127.0.0.1:0"): Promise<Proxy> =>
    toxiproxy.createProxy({ name, listen, upstream });

  it("getVersion returns the version document of the Toxiproxy API it speaks", async () => {
    expect(JSON.parse(await toxiproxy.getVersion())).toEqual({ version: "2.12.0" });
  });

  it("createProxy returns the proxy listening on the real port it bound", async () => {
    const proxy = await create("logs");
    expect(proxy.toJson()).toEqual({
      name: "logs",
      listen: expect.stringMatching(/^127\.0\.0\.1:\d+$/) as string,
      upstream,
      enabled: true,
    });
    expect(portOf(proxy.listen)).toBeGreaterThan(0);
  });

  it("createProxy with localhost:0 binds loopback and reports 127.0.0.1", async () => {
    const proxy = await create("local", "localhost:0");
    expect(proxy.listen).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);
  });

  it("createProxy of an existing name is refused with 409", async () => {
    await create("logs");
    await expect(create("logs")).rejects.toThrow(
      new ToxiproxyError("Error", "Request failed with status code 409"),
    );
  });

  it("get returns the proxy as created", async () => {
    const created = await create("logs");
    const fetched = await toxiproxy.get("logs");
    expect(fetched.toJson()).toEqual(created.toJson());
  });

  it("get of an unknown proxy fails with 404", async () => {
    await expect(toxiproxy.get("nope")).rejects.toThrow("Request failed with status code 404");
  });

  it("getAll returns nothing when no proxy exists, then every proxy by name", async () => {
    expect(await toxiproxy.getAll()).toEqual({});
    const a = await create("a");
    const b = await create("b");
    const all = await toxiproxy.getAll();
    expect(Object.keys(all).sort()).toEqual(["a", "b"]);
    expect(all.a?.toJson()).toEqual(a.toJson());
    expect(all.b?.toJson()).toEqual(b.toJson());
  });

  it("populate creates every proxy and returns them by name", async () => {
    const proxies = await toxiproxy.populate([
      { name: "one", listen: "127.0.0.1:0", upstream },
      { name: "two", listen: "127.0.0.1:0", upstream, enabled: false },
    ]);
    expect(Object.keys(proxies).sort()).toEqual(["one", "two"]);
    expect(proxies.one?.enabled).toBe(true);
    expect(proxies.two?.toJson()).toEqual({
      name: "two",
      listen: "127.0.0.1:0",
      upstream,
      enabled: false,
    });
  });

  it("populate leaves a proxy with the same name, listen and upstream untouched", async () => {
    const first = await toxiproxy.populate([{ name: "one", listen: "127.0.0.1:0", upstream }]);
    await first.one?.addToxic({ type: "latency", attributes: { latency: 5 } } as never);
    const again = await toxiproxy.populate([{ name: "one", listen: "127.0.0.1:0", upstream }]);
    expect(again.one?.listen).toBe(first.one?.listen);
    await expect(again.one?.getToxic("latency_downstream")).resolves.toBeDefined();
  });

  it("populate replaces a proxy whose upstream changed", async () => {
    await toxiproxy.populate([{ name: "one", listen: "127.0.0.1:0", upstream }]);
    const otherUpstream = `127.0.0.1:${await closedPort()}`;
    const replaced = await toxiproxy.populate([
      { name: "one", listen: "127.0.0.1:0", upstream: otherUpstream },
    ]);
    expect(replaced.one?.upstream).toBe(otherUpstream);
  });

  it("Proxy.update disables and re-enables a proxy on the same address", async () => {
    const proxy = await create("logs");
    const disabled = await proxy.update({ enabled: false, listen: proxy.listen, upstream });
    expect(disabled.toJson()).toEqual({ ...proxy.toJson(), enabled: false });
    const enabled = await disabled.update({ enabled: true, listen: proxy.listen, upstream });
    expect(enabled.toJson()).toEqual(proxy.toJson());
  });

  it("Proxy.update changes the upstream", async () => {
    const proxy = await create("logs");
    const otherUpstream = `127.0.0.1:${await closedPort()}`;
    const updated = await proxy.update({
      enabled: true,
      listen: proxy.listen,
      upstream: otherUpstream,
    });
    expect(updated.upstream).toBe(otherUpstream);
    expect((await toxiproxy.get("logs")).upstream).toBe(otherUpstream);
  });

  it("Proxy.remove deletes the proxy", async () => {
    const proxy = await create("logs");
    await proxy.remove();
    expect(await toxiproxy.getAll()).toEqual({});
  });

  it("Proxy.addToxic returns the toxic with defaults filled and every attribute echoed", async () => {
    const proxy = await create("logs");
    const toxic = await proxy.addToxic({ type: "latency", attributes: { latency: 50 } } as never);
    expect(toxic.toJson()).toEqual({
      name: "latency_downstream",
      type: "latency",
      stream: "downstream",
      toxicity: 1,
      attributes: { latency: 50, jitter: 0 },
    });
  });

  it("Proxy.addToxic keeps what the body sets", async () => {
    const proxy = await create("logs");
    const toxic = await proxy.addToxic({
      name: "slow-writes",
      type: "slicer",
      stream: "upstream",
      toxicity: 0.5,
      attributes: { average_size: 64, size_variation: 8, delay: 10 },
    });
    expect(toxic.toJson()).toEqual({
      name: "slow-writes",
      type: "slicer",
      stream: "upstream",
      toxicity: 0.5,
      attributes: { average_size: 64, size_variation: 8, delay: 10 },
    });
  });

  it("Proxy.getToxic returns the toxic as added", async () => {
    const proxy = await create("logs");
    const added = await proxy.addToxic({
      name: "cut",
      type: "limit_data",
      stream: "upstream",
      toxicity: 1,
      attributes: { bytes: 1000 },
    });
    const fetched = await proxy.getToxic("cut");
    expect(fetched.toJson()).toEqual(added.toJson());
  });

  it("Toxic.update merges the attributes given and keeps the others", async () => {
    const proxy = await create("logs");
    const toxic = await proxy.addToxic({
      name: "lag",
      type: "latency",
      stream: "downstream",
      toxicity: 1,
      attributes: { latency: 100, jitter: 10 },
    });
    const updated = await toxic.update({ attributes: { latency: 300 } } as never);
    expect(updated.toJson()).toEqual({
      ...toxic.toJson(),
      attributes: { latency: 300, jitter: 10 },
    });
    expect((await proxy.getToxic("lag")).attributes).toEqual({ latency: 300, jitter: 10 });
  });

  it("Toxic.update changes the toxicity", async () => {
    const proxy = await create("logs");
    const toxic = await proxy.addToxic({ type: "bandwidth", attributes: { rate: 10 } } as never);
    const updated = await toxic.update({ toxicity: 0.25 } as never);
    expect(updated.toxicity).toBe(0.25);
    expect(updated.attributes).toEqual({ rate: 10 });
  });

  it("Toxic.remove deletes the toxic", async () => {
    const proxy = await create("logs");
    const toxic = await proxy.addToxic({ type: "timeout", attributes: { timeout: 10 } } as never);
    await toxic.remove();
    await expect(proxy.getToxic(toxic.name)).rejects.toThrow("status code 404");
  });

  it("reset enables every proxy and removes every toxic, keeping the proxies", async () => {
    const proxy = await create("logs");
    await proxy.addToxic({ type: "noop", attributes: {} } as never);
    await proxy.update({ enabled: false, listen: proxy.listen, upstream });
    await toxiproxy.reset();
    const after = await toxiproxy.get("logs");
    expect(after.toJson()).toEqual(proxy.toJson());
    await expect(after.getToxic("noop_downstream")).rejects.toThrow("status code 404");
  });
});
