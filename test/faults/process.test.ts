// Process faults on the reference pipeline running as processes: a paused service answers
// nothing until healed, a killed one is down until the heal restarts it, a restart keeps its
// address, and a memory cap kills a service over it and is lifted by the heal.

import { describe, expect, it } from "vitest";
import { probeHealth } from "../../harness/runtime/process/health.ts";
import { eventLine, eventually, ingest, post, useFaultRig } from "./support.ts";

const rig = useFaultRig();

describe("process faults on processes", () => {
  it("process.pause makes /healthz time out; heal answers again", async () => {
    const sink = rig().topology.service("sink-0");
    const fault = await rig().inject({ kind: "process.pause", service: "sink-0" });
    expect(sink.state()).toBe("paused");
    expect(await probeHealth(sink.url(), 300)).toEqual({ error: "no answer within 300 ms" });
    await fault.heal();
    expect(await probeHealth(sink.url(), 5_000)).toEqual({ status: 200 });
  });

  it("process.kill with SIGKILL takes the buffer down; heal restarts it healthy and the forwarder appends again", async () => {
    const buffer = rig().topology.service("buffer");
    const fault = await rig().inject({ kind: "process.kill", service: "buffer" });
    expect(buffer.state()).toBe("exited");
    expect(await probeHealth(buffer.url(), 500)).toEqual({ error: "ECONNREFUSED" });
    expect(rig().topology.events().at(-1)).toMatchObject({
      service: "buffer",
      kind: "exited",
      signal: "SIGKILL",
      cause: "requested",
    });
    expect((await ingest(rig())).status).toBe(503);
    await fault.heal();
    expect(buffer.state()).toBe("running");
    expect(await probeHealth(buffer.url(), 5_000)).toEqual({ status: 200 });
    expect((await ingest(rig())).status).toBe(200);
  });

  it("process.kill with SIGTERM stops the pusher cleanly; heal restarts it", async () => {
    const pusher = rig().topology.service("pusher");
    const fault = await rig().inject({
      kind: "process.kill",
      service: "pusher",
      signal: "SIGTERM",
    });
    expect(rig().topology.events().at(-1)).toMatchObject({
      service: "pusher",
      kind: "exited",
      code: 0,
      cause: "requested",
    });
    await fault.heal();
    expect(await probeHealth(pusher.url(), 5_000)).toEqual({ status: 200 });
  });

  it("process.restart brings the forwarder back on its address as a new process; heal does nothing", async () => {
    const forwarder = rig().topology.service("forwarder");
    const { pid, url } = { pid: forwarder.pid(), url: forwarder.url() };
    const fault = await rig().inject({ kind: "process.restart", service: "forwarder" });
    expect(forwarder.pid()).not.toBe(pid);
    expect(forwarder.url()).toBe(url);
    const restartedPid = forwarder.pid();
    await fault.heal();
    expect(forwarder.pid()).toBe(restartedPid);
    expect((await ingest(rig())).status).toBe(200);
  });

  it("process.restart with wipeData brings the sink back without what it had received", async () => {
    const sink = rig().topology.service("sink-0");
    const records = async (): Promise<number> =>
      ((await (await fetch(`${sink.url()}/records`)).json()) as { total: number }).total;
    expect((await post(`${sink.url()}/ingest/t000.http_requests`, eventLine())).status).toBe(200);
    expect(await records()).toBeGreaterThan(0);
    await rig().inject({ kind: "process.restart", service: "sink-0", wipeData: true });
    expect(await records()).toBe(0);
    expect(rig().notes.at(-1)).toBe("sink-0 restarted with its data wiped");
  });

  it("process.memory-cap below the buffer's size kills it; heal lifts the cap and restarts it", async () => {
    const buffer = rig().topology.service("buffer");
    const fault = await rig().inject({
      kind: "process.memory-cap",
      service: "buffer",
      megabytes: 10,
    });
    expect(await eventually(() => buffer.state() === "exited", 5_000)).toBe(true);
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
    // The cap is gone: the restarted buffer, as large as before, stays up.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(buffer.state()).toBe("running");
    expect((await ingest(rig())).status).toBe(200);
  });

  it("process.memory-cap above the service's size leaves it running, and heal does not restart it", async () => {
    const sink = rig().topology.service("sink-0");
    const pid = sink.pid();
    const fault = await rig().inject({
      kind: "process.memory-cap",
      service: "sink-0",
      megabytes: 4_096,
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await fault.heal();
    expect(sink.pid()).toBe(pid);
    expect(rig().notes).toContain("sink-0 memory cap lifted");
  });
});
