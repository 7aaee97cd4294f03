import { describe, expect, it } from "vitest";
import { effectiveProfile, parseTopology, TopologyError } from "../../harness/runtime/topology.ts";
import { componentArguments } from "../../harness/runtime/process/command-line.ts";

const pipeline = {
  services: [
    { name: "forwarder", component: "forwarder", peers: ["config", "buffer"] },
    { name: "pusher", component: "pusher", peers: ["config", "buffer", "sink-0"] },
    { name: "buffer", component: "buffer", peers: ["config"] },
    { name: "sink-0", component: "sink" },
    { name: "config", component: "config" },
  ],
};

function issuesOf(input: unknown): string[] {
  try {
    parseTopology(input);
  } catch (error) {
    if (error instanceof TopologyError)
      return error.issues.map((issue) => `${issue.path}: ${issue.message}`);
    throw error;
  }
  throw new Error("expected the topology to be refused");
}

describe("topology", () => {
  it("orders services so that every peer starts before the services calling it", () => {
    const order = parseTopology(pipeline).services.map((service) => service.name);
    for (const service of pipeline.services) {
      for (const peer of service.peers ?? []) {
        expect(order.indexOf(peer), `${peer} before ${service.name}`).toBeLessThan(
          order.indexOf(service.name),
        );
      }
    }
  });

  it("names every link <service>-><peer>", () => {
    const links = parseTopology(pipeline).links.map((link) => link.name);
    expect(links.sort()).toEqual([
      "buffer->config",
      "forwarder->buffer",
      "forwarder->config",
      "pusher->buffer",
      "pusher->config",
      "pusher->sink-0",
    ]);
  });

  it("defaults the profile to hardened and lets a service override profile and flaws", () => {
    const topology = parseTopology({
      flaws: ["buffer.ackBeforeDurable"],
      services: [
        { name: "a", component: "buffer" },
        { name: "b", component: "buffer", profile: "legacy-2024" },
        { name: "c", component: "buffer", flaws: [] },
      ],
    });
    const [a, b, c] = topology.services;
    expect(effectiveProfile(topology, a!)).toEqual({
      profile: "hardened",
      flaws: ["buffer.ackBeforeDurable"],
    });
    expect(effectiveProfile(topology, b!)).toEqual({ profile: "legacy-2024" });
    expect(effectiveProfile(topology, c!)).toEqual({ profile: "hardened", flaws: [] });
  });

  it("refuses an unknown peer, naming its path, the value and the services there are", () => {
    const issues = issuesOf({
      services: [{ name: "buffer", component: "buffer", peers: ["confgi"] }],
    });
    expect(issues).toEqual([
      'topology.services[0].peers[0]: "confgi" is not a service; expected one of: buffer',
    ]);
  });

  it("refuses a duplicate name", () => {
    const issues = issuesOf({
      services: [
        { name: "sink", component: "sink" },
        { name: "sink", component: "sink" },
      ],
    });
    expect(issues).toEqual([
      'topology.services[1].name: "sink" is already the name of services[0]',
    ]);
  });

  it("refuses a cycle of peers, naming the services on it", () => {
    const issues = issuesOf({
      services: [
        { name: "a", component: "buffer", peers: ["b"] },
        { name: "b", component: "pusher", peers: ["c"] },
        { name: "c", component: "sink", peers: ["a"] },
      ],
    });
    expect(issues).toEqual(["topology.services: peers form a cycle: a -> b -> c -> a"]);
  });

  it("refuses a service calling itself as a cycle", () => {
    expect(issuesOf({ services: [{ name: "a", component: "sink", peers: ["a"] }] })).toEqual([
      "topology.services: peers form a cycle: a -> a",
    ]);
  });

  it("names the path and value of a bad component, profile, flaw, limit and memory cap", () => {
    const issues = issuesOf({
      profile: "softened",
      services: [
        {
          name: "buffer",
          component: "bufer",
          flaws: ["buffer.leaky"],
          limits: { maxBuffers: -1 },
          memoryCapMb: 0,
        },
      ],
    });
    expect(issues).toHaveLength(5);
    expect(issues[0]).toMatch(/^topology\.profile: .*"softened"/);
    expect(issues[1]).toMatch(/^topology\.services\[0\]\.component: .*"bufer"/);
    expect(issues[2]).toMatch(/^topology\.services\[0\]\.flaws\[0\]: .*"buffer\.leaky"/);
    expect(issues[3]).toMatch(/^topology\.services\[0\]\.limits: limit "maxBuffers" is -1/);
    expect(issues[4]).toMatch(/^topology\.services\[0\]\.memoryCapMb: .*0/);
  });

  it("refuses unknown fields and an empty service list", () => {
    expect(issuesOf({ services: [{ name: "a", component: "sink", port: 80 }] })).toEqual([
      'topology.services[0]: Unrecognized key: "port"',
    ]);
    expect(issuesOf({ services: [] })[0]).toMatch(
      /^topology\.services: expected at least one service/,
    );
  });
});

describe("component command line", () => {
  it("carries instance, profile, flaws, data dir, peers, limits and settings", () => {
    const topology = parseTopology({
      services: [
        {
          name: "buffer",
          component: "buffer",
          flaws: ["buffer.limitsUnconfigured", "buffer.ackBeforeDurable"],
          limits: { maxBuffers: 4 },
          settings: { shards: 2 },
        },
      ],
    });
    const args = componentArguments(topology, topology.services[0]!, {
      port: 0,
      dataDir: "/tmp/run/data/buffer",
      peers: { config: "http://127.0.0.1:5000" },
    });
    expect(args).toEqual([
      "buffer",
      "--port",
      "0",
      "--instance",
      "buffer",
      "--profile",
      "hardened",
      "--flaws",
      "buffer.limitsUnconfigured,buffer.ackBeforeDurable",
      "--data-dir",
      "/tmp/run/data/buffer",
      "--peers",
      '{"config":"http://127.0.0.1:5000"}',
      "--limits",
      '{"maxBuffers":4}',
      "--settings",
      '{"shards":2}',
    ]);
  });
});
