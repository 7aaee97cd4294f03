import { describe, expect, it } from "vitest";
import { probeHealth } from "../../harness/runtime/process/health.ts";
import { isAlive } from "../../harness/runtime/process/proc.ts";
import type { RuntimeEvent } from "../../harness/runtime/runtime.ts";
import { eventually, getJson, useFixtureRuntime } from "./support.ts";

const runtime = useFixtureRuntime();

const oneSink = { services: [{ name: "sink-0", component: "sink" as const }] };

function exitsOf(events: readonly RuntimeEvent[]): RuntimeEvent[] {
  return events.filter((event) => event.kind === "exited");
}

describe("process runtime: faults on one service", () => {
  it("kill with SIGKILL ends the process, and it stays down", async () => {
    const topology = await runtime.start(oneSink);
    const sink = topology.service("sink-0");
    const pid = sink.pid()!;
    expect(await sink.kill("SIGKILL")).toEqual({ code: null, signal: "SIGKILL" });
    expect(isAlive(pid)).toBe(false);
    expect(sink.state()).toBe("exited");
    expect(sink.pid()).toBeUndefined();
    expect("error" in (await probeHealth(sink.url(), 500))).toBe(true);
    expect(exitsOf(topology.events())).toMatchObject([
      { service: "sink-0", signal: "SIGKILL", cause: "requested" },
    ]);
  });

  it("kill with SIGTERM lets the service stop gracefully", async () => {
    const topology = await runtime.start(oneSink);
    const sink = topology.service("sink-0");
    expect(await sink.kill("SIGTERM")).toEqual({ code: 0, signal: null });
    expect(sink.logs().at(-1)?.text).toContain('"reason":"SIGTERM"');
  });

  it("a paused service answers nothing, and answers again once resumed", async () => {
    const topology = await runtime.start(oneSink);
    const sink = topology.service("sink-0");
    await sink.pause();
    expect(sink.state()).toBe("paused");
    expect(await probeHealth(sink.url(), 300)).toEqual({ error: "no answer within 300 ms" });
    await sink.resume();
    expect(sink.state()).toBe("running");
    expect(await probeHealth(sink.url(), 5_000)).toEqual({ status: 200 });
    expect(topology.events().map((event) => event.kind)).toEqual(
      expect.arrayContaining(["paused", "resumed"]) as unknown,
    );
  });

  it("waitReady rejects while paused and resolves after resume", async () => {
    const topology = await runtime.start(oneSink);
    const sink = topology.service("sink-0");
    await sink.pause();
    await expect(sink.waitReady(300)).rejects.toThrow(
      /service "sink-0" \(sink\) not ready within 300 ms/,
    );
    await sink.resume();
    await sink.waitReady(5_000);
  });

  it("kill with SIGTERM ends a paused service too", async () => {
    const topology = await runtime.start(oneSink);
    const sink = topology.service("sink-0");
    await sink.pause();
    expect(await sink.kill("SIGTERM")).toEqual({ code: 0, signal: null });
  });

  it("restart brings the service back on the same port with the same data directory", async () => {
    const topology = await runtime.start(oneSink);
    const sink = topology.service("sink-0");
    const url = sink.url();
    const firstPid = sink.pid();
    await sink.restart();
    expect(sink.url()).toBe(url);
    expect(sink.pid()).not.toBe(firstPid);
    expect(await getJson(`${url}/starts`)).toEqual({ starts: 2 });
  });

  it("restart after a kill starts the service again", async () => {
    const topology = await runtime.start(oneSink);
    const sink = topology.service("sink-0");
    await sink.kill();
    await sink.restart();
    expect(sink.state()).toBe("running");
    expect(await probeHealth(sink.url(), 5_000)).toEqual({ status: 200 });
  });

  it("a service that exits on its own is recorded as crashed; the others run on", async () => {
    const topology = await runtime.start({
      services: [
        { name: "config", component: "config" },
        { name: "sink-0", component: "sink", settings: { crashAfterMs: 200 } },
      ],
    });
    const sink = topology.service("sink-0");
    expect(await eventually(() => sink.state() === "exited", 5_000)).toBe(true);
    expect(exitsOf(topology.events())).toMatchObject([
      { service: "sink-0", code: 3, cause: "crash" },
    ]);
    await expect(sink.waitReady(500)).rejects.toThrow(
      /service "sink-0" \(sink\) is not running \(exit code 3\)/,
    );
    expect(topology.service("config").state()).toBe("running");
  });
});

describe("process runtime: memory cap", () => {
  it("kills a service whose resident memory exceeds its cap, and says so", async () => {
    const topology = await runtime.start({
      services: [
        { name: "buffer", component: "buffer", memoryCapMb: 150, settings: { growMbPerTick: 10 } },
      ],
    });
    const buffer = topology.service("buffer");
    expect(await eventually(() => buffer.state() === "exited", 10_000)).toBe(true);
    const events = topology.events();
    const exceeded = events.find((event) => event.kind === "memory-cap-exceeded");
    expect(exceeded).toMatchObject({ service: "buffer", capMb: 150 });
    expect(exceeded?.kind === "memory-cap-exceeded" && exceeded.rssMb).toBeGreaterThan(150);
    expect(exitsOf(events)).toMatchObject([
      { service: "buffer", signal: "SIGKILL", cause: "memory-cap" },
    ]);
  });

  it("a cap set while running applies from then on", async () => {
    const topology = await runtime.start({
      services: [{ name: "buffer", component: "buffer", settings: { growMbPerTick: 5 } }],
    });
    const buffer = topology.service("buffer");
    buffer.setMemoryCap(120);
    expect(await eventually(() => buffer.state() === "exited", 10_000)).toBe(true);
    expect(exitsOf(topology.events())).toMatchObject([{ cause: "memory-cap" }]);
  });

  it("refuses a cap that is not a positive number", async () => {
    const topology = await runtime.start(oneSink);
    expect(() => topology.service("sink-0").setMemoryCap(0)).toThrow(
      'memory cap of "sink-0" is 0 MB, expected a positive number',
    );
  });
});
