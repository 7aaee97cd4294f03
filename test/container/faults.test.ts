// Process faults and a network fault on the reference pipeline running as containers, with the
// host's fault proxy on every link: what a caller sees while each is in force, and after the
// heal. One topology for the file.

import { expect, it } from "vitest";
import { containerRuntime } from "../../harness/runtime/container/container-runtime.ts";
import { probeHealth } from "../../harness/runtime/process/health.ts";
import {
  eventLine,
  eventually,
  ingest,
  post,
  useFaultRig,
  type FaultRig,
} from "../faults/support.ts";
import { describeContainers, DOCKER_UNAVAILABLE } from "./support.ts";

const rig: () => FaultRig =
  DOCKER_UNAVAILABLE === undefined
    ? useFaultRig({
        proxies: true,
        runtime: () => containerRuntime({ limits: { stopGraceMs: 2_000 } }),
      })
    : () => {
        throw new Error(DOCKER_UNAVAILABLE);
      };

describeContainers("process and network faults on containers", () => {
  it("every service is a running container with a host pid and a loopback address", () => {
    for (const service of rig().topology.services) {
      expect(service.state()).toBe("running");
      expect(service.pid()).toBeGreaterThan(1);
      expect(service.url()).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    }
  });

  it("process.pause freezes the sink's container: /healthz times out; heal answers again", async () => {
    const sink = rig().topology.service("sink-0");
    const fault = await rig().inject({ kind: "process.pause", service: "sink-0" });
    expect(sink.state()).toBe("paused");
    expect(await probeHealth(sink.url(), 300)).toEqual({ error: "no answer within 300 ms" });
    await fault.heal();
    expect(await probeHealth(sink.url(), 5_000)).toEqual({ status: 200 });
  });

  it("process.kill with SIGKILL takes the buffer down and the forwarder answers 503; heal restarts it", async () => {
    const buffer = rig().topology.service("buffer");
    const fault = await rig().inject({ kind: "process.kill", service: "buffer" });
    expect(buffer.state()).toBe("exited");
    expect(rig().topology.events().at(-1)).toMatchObject({
      service: "buffer",
      kind: "exited",
      signal: "SIGKILL",
      cause: "requested",
    });
    expect((await ingest(rig())).status).toBe(503);
    await fault.heal();
    expect(buffer.state()).toBe("running");
    expect((await ingest(rig())).status).toBe(200);
  });

  it("process.restart runs the forwarder again in its container: a new process, the same address", async () => {
    const forwarder = rig().topology.service("forwarder");
    const { pid, url } = { pid: forwarder.pid(), url: forwarder.url() };
    await rig().inject({ kind: "process.restart", service: "forwarder" });
    expect(forwarder.pid()).not.toBe(pid);
    expect(forwarder.url()).toBe(url);
    expect((await ingest(rig())).status).toBe(200);
  });

  it("process.restart with wipeData brings the sink back as a new container without its records", async () => {
    const sink = rig().topology.service("sink-0");
    const records = async (): Promise<number> =>
      ((await (await fetch(`${sink.url()}/records`)).json()) as { total: number }).total;
    expect((await post(`${sink.url()}/ingest/t000.http_requests`, eventLine())).status).toBe(200);
    expect(await records()).toBeGreaterThan(0);
    await rig().inject({ kind: "process.restart", service: "sink-0", wipeData: true });
    expect(await records()).toBe(0);
  });

  it("process.memory-cap below the buffer's usage kills its container; heal lifts the cap and restarts it", async () => {
    const buffer = rig().topology.service("buffer");
    expect(await buffer.memoryBytes()).toBeGreaterThan(10 * 1024 * 1024);
    const fault = await rig().inject({
      kind: "process.memory-cap",
      service: "buffer",
      megabytes: 10,
    });
    expect(await eventually(() => buffer.state() === "exited", 10_000)).toBe(true);
    expect(rig().topology.events()).toContainEqual(
      expect.objectContaining({ service: "buffer", kind: "memory-cap-exceeded", capMb: 10 }),
    );
    expect(rig().topology.events().at(-1)).toMatchObject({
      service: "buffer",
      kind: "exited",
      cause: "memory-cap",
    });
    await fault.heal();
    expect(buffer.state()).toBe("running");
    expect((await ingest(rig())).status).toBe(200);
  });

  it("network.down on forwarder->buffer, through the fault proxy: the forwarder answers 503; heal: 200", async () => {
    expect((await ingest(rig())).status).toBe(200);
    const fault = await rig().inject({ kind: "network.down", link: "forwarder->buffer" });
    expect((await ingest(rig())).status).toBe(503);
    await fault.heal();
    expect(await eventually(async () => (await ingest(rig())).status === 200, 10_000)).toBe(true);
  });
});
