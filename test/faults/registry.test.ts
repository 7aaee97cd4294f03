// The fault catalogue's table and its schemas: every kind is registered once by its name, and
// every parameter of every kind is checked at the edge with a message naming the field, the
// value and what was expected.

import { describe, expect, it } from "vitest";
import { FAULT_FAMILIES } from "../../harness/faults/fault.ts";
import {
  FAULT_NAMES,
  FAULTS,
  faultKind,
  faultStepSchema,
  faultTargets,
  parseFaultStep,
  type FaultStepInput,
} from "../../harness/faults/registry.ts";

/** One valid step per kind, every field given; a kind added without one fails the suite. */
const EXAMPLES: Record<string, FaultStepInput> = {
  "network.latency": {
    kind: "network.latency",
    link: "forwarder->buffer",
    stream: "both",
    toxicity: 0.5,
    latency: 200,
    jitter: 20,
  },
  "network.bandwidth": {
    kind: "network.bandwidth",
    link: "pusher->sink-0",
    stream: "upstream",
    toxicity: 1,
    rate: 10,
  },
  "network.slow_close": {
    kind: "network.slow_close",
    link: "pusher->sink-0",
    stream: "upstream",
    toxicity: 1,
    delay: 100,
  },
  "network.timeout": {
    kind: "network.timeout",
    link: "forwarder->buffer",
    stream: "upstream",
    toxicity: 1,
    timeout: 0,
  },
  "network.reset_peer": {
    kind: "network.reset_peer",
    link: "forwarder->buffer",
    stream: "upstream",
    toxicity: 1,
    timeout: 10,
  },
  "network.slicer": {
    kind: "network.slicer",
    link: "forwarder->buffer",
    stream: "downstream",
    toxicity: 0.1,
    average_size: 64,
    size_variation: 8,
    delay: 10,
  },
  "network.limit_data": {
    kind: "network.limit_data",
    link: "pusher->buffer",
    stream: "upstream",
    toxicity: 1,
    bytes: 1_000,
  },
  "network.down": { kind: "network.down", link: "forwarder->buffer" },
  "process.kill": { kind: "process.kill", service: "buffer", signal: "SIGTERM" },
  "process.pause": { kind: "process.pause", service: "pusher" },
  "process.restart": {
    kind: "process.restart",
    service: "forwarder",
    wipeData: true,
    onlyIfUnhealthy: false,
  },
  "process.memory-cap": { kind: "process.memory-cap", service: "buffer", megabytes: 128 },
  "config.add-job": {
    kind: "config.add-job",
    tenant: "t000",
    dataset: "dns_logs",
    destination: "sink-1/t000.dns_logs",
    onHeal: "disable-job",
  },
  "config.push-empty": { kind: "config.push-empty" },
  "config.push-corrupt": { kind: "config.push-corrupt" },
  "config.revert": { kind: "config.revert" },
  "load.surge": { kind: "load.surge", multiplier: 5 },
  "load.tenant-flood": { kind: "load.tenant-flood", tenant: "t003", multiplier: 40 },
  "load.all-tenants-flood": { kind: "load.all-tenants-flood", multiplier: 40 },
  "sink.slow": { kind: "sink.slow", sink: "sink-0", delayMs: 500 },
  "sink.error": { kind: "sink.error", sink: "sink-0", status: 500 },
  "sink.throttle": { kind: "sink.throttle", sink: "sink-1", retryAfterMs: 1_000 },
  "sink.down": { kind: "sink.down", sink: "sink-0" },
};

function problemsOf(input: unknown): string[] {
  try {
    parseFaultStep(input, "method[0].fault");
  } catch (error) {
    return [...(error as { problems: string[] }).problems];
  }
  throw new Error(`${JSON.stringify(input)} was accepted`);
}

describe("fault registry", () => {
  it("registers every kind once, named <family>.<fault>, in a known family", () => {
    expect(FAULT_NAMES).toEqual(FAULTS.map((kind) => kind.name));
    expect(new Set(FAULT_NAMES).size).toBe(FAULTS.length);
    for (const kind of FAULTS) {
      expect(FAULT_FAMILIES).toContain(kind.family);
      expect(kind.name.startsWith(`${kind.family}.`)).toBe(true);
      expect(kind.summary.length).toBeGreaterThan(10);
    }
  });

  it("covers every fault of docs/architecture.md §4", () => {
    expect([...FAULT_NAMES].sort()).toEqual(Object.keys(EXAMPLES).sort());
  });

  it("finds a kind by name and names every known kind for an unknown one", () => {
    expect(faultKind("process.kill").family).toBe("process");
    expect(() => faultKind("process.explode")).toThrow(
      /unknown fault kind "process.explode"; expected one of: network.latency, .*sink.down/,
    );
  });
});

describe("fault step schema", () => {
  it.each(Object.entries(EXAMPLES))("accepts a full %s step as written", (_name, step) => {
    expect(parseFaultStep(step)).toEqual(step);
  });

  it("fills in the defaults", () => {
    expect(parseFaultStep({ kind: "network.latency", link: "a->b", latency: 5 })).toEqual({
      kind: "network.latency",
      link: "a->b",
      latency: 5,
      jitter: 0,
      stream: "downstream",
      toxicity: 1,
    });
    expect(parseFaultStep({ kind: "process.kill", service: "buffer" })).toMatchObject({
      signal: "SIGKILL",
    });
    expect(parseFaultStep({ kind: "sink.error", sink: "sink-0" })).toMatchObject({ status: 503 });
    expect(parseFaultStep({ kind: "config.add-job", dataset: "dns" })).toEqual({
      kind: "config.add-job",
      dataset: "dns",
      onHeal: "keep-job",
    });
  });

  it("names the kinds when kind is unknown or missing", () => {
    expect(problemsOf({ kind: "network.lag", link: "a->b" })).toEqual([
      expect.stringMatching(
        /^method\[0\]\.fault\.kind: "network.lag": unknown fault kind "network.lag"; expected a fault kind: one of network.latency, /,
      ),
    ]);
    expect(problemsOf({ link: "a->b" })).toEqual([
      expect.stringMatching(/^method\[0\]\.fault\.kind: missing: expected a fault kind: one of /),
    ]);
    expect(problemsOf("process.kill")).toEqual([
      'method[0].fault: "process.kill": expected a fault step: an object with kind and that kind\'s parameters',
    ]);
  });

  describe.each(FAULTS.map((kind) => [kind.name, kind] as const))("%s", (name, kind) => {
    const example = EXAMPLES[name]!;
    const fields = Object.keys(example).filter((field) => field !== "kind");

    it.each(fields)(
      "rejects a wrong %s, naming the field, the value and the expectation",
      (field) => {
        const problems = problemsOf({ ...example, [field]: { wrong: true } });
        expect(problems).toHaveLength(1);
        expect(problems[0]).toMatch(
          new RegExp(`^method\\[0\\]\\.fault\\.${field}: \\{"wrong":true\\}: expected `),
        );
        // The kind's own schema, as the experiment loader uses it, puts the issue on the field.
        const { kind: _kind, ...params } = example;
        const direct = kind.params.safeParse({ ...params, [field]: { wrong: true } });
        expect(direct.success).toBe(false);
        expect(direct.error?.issues.map((issue) => issue.path)).toEqual([[field]]);
      },
    );

    it("rejects a misspelt field, naming it", () => {
      expect(problemsOf({ ...example, colour: "red" })).toEqual([
        expect.stringMatching(
          /^method\[0\]\.fault\.colour: "red": unknown field "colour"; expected /,
        ),
      ]);
    });
  });

  it.each([
    [
      { kind: "network.latency", link: "a->b", latency: -1 },
      "latency: -1: expected an integer from 0 to 3600000 (ms)",
    ],
    [{ kind: "network.latency", link: "a->b", latency: 1.5 }, "latency: 1.5: expected an integer"],
    [
      { kind: "network.latency", link: "forwarder", latency: 1 },
      'link: "forwarder": expected a link "<service>-><peer>"',
    ],
    [
      { kind: "network.latency", link: "a->b", latency: 1, toxicity: 1.5 },
      "toxicity: 1.5: expected a number from 0 to 1",
    ],
    [
      { kind: "network.latency", link: "a->b", latency: 1, stream: "sideways" },
      'stream: "sideways": expected one of "upstream", "downstream", "both"',
    ],
    [
      { kind: "network.slicer", link: "a->b", average_size: 8, size_variation: 8 },
      "size_variation: 8: expected less than average_size (8)",
    ],
    [
      { kind: "network.slicer", link: "a->b", average_size: 0 },
      "average_size: 0: expected an integer from 1 to",
    ],
    [{ kind: "network.bandwidth", link: "a->b" }, "rate: missing: expected an integer from 0 to"],
    [
      { kind: "process.memory-cap", service: "buffer", megabytes: 0 },
      "megabytes: 0: expected an integer from 1 to 65536 (MB)",
    ],
    [{ kind: "process.kill", service: "Buffer" }, 'service: "Buffer": expected a service name'],
    [
      { kind: "sink.error", sink: "sink-0", status: 429 },
      "status: 429: expected an integer from 500 to 599",
    ],
    [
      { kind: "load.surge", multiplier: 1_001 },
      "multiplier: 1001: expected a number from 0 to 1000",
    ],
    [
      { kind: "load.tenant-flood", tenant: "t 1", multiplier: 2 },
      'tenant: "t 1": expected a tenant name',
    ],
    [
      { kind: "config.add-job", dataset: "dns", destination: "sink-0" },
      'destination: "sink-0": expected "<sink service>/<path>"',
    ],
  ])("rejects %j", (step, problem) => {
    expect(problemsOf(step)).toEqual([expect.stringContaining(`method[0].fault.${problem}`)]);
  });

  it("embeds in a larger schema, reporting paths below the step", () => {
    const parsed = faultStepSchema.safeParse({ kind: "sink.slow", sink: "sink-0", delayMs: -5 });
    expect(parsed.error?.issues).toMatchObject([{ path: ["delayMs"] }]);
  });
});

describe("fault targets", () => {
  it("names the link, the service or the sink a step acts on", () => {
    expect(faultTargets(parseFaultStep(EXAMPLES["network.latency"]))).toEqual({
      links: ["forwarder->buffer"],
    });
    expect(faultTargets(parseFaultStep(EXAMPLES["process.kill"]))).toEqual({
      services: ["buffer"],
    });
    expect(faultTargets(parseFaultStep(EXAMPLES["sink.down"]))).toEqual({ services: ["sink-0"] });
    expect(faultTargets(parseFaultStep(EXAMPLES["config.add-job"]))).toEqual({
      services: ["sink-1"],
    });
    expect(faultTargets(parseFaultStep(EXAMPLES["load.surge"]))).toEqual({});
  });
});
