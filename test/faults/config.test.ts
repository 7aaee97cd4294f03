// Config faults on a config service and a sink running as processes, with the flaw of
// 14 November 2024 on: a job for a new dataset publishes an empty config and the revert a
// non-empty one; pushed configs are healed by a revert; an added job is kept or disabled.

import { describe, expect, it } from "vitest";
import { useFaultRig } from "./support.ts";

const JOB = { tenant: "t000", dataset: "http_requests", destination: "sink-0/t000.http_requests" };

const rig = useFaultRig({
  topology: {
    profile: "hardened",
    flaws: ["config.emptyOnNewDataset"],
    services: [
      {
        name: "config",
        component: "config",
        settings: { jobs: [JOB], datasets: ["http_requests"] },
      },
      { name: "sink-0", component: "sink" },
    ],
  },
});

async function published(): Promise<{ version?: number; jobs?: unknown[] } | "not JSON"> {
  const response = await fetch(`${rig().topology.service("config").url()}/config`);
  const text = await response.text();
  try {
    return JSON.parse(text) as { version: number; jobs: unknown[] };
  } catch {
    return "not JSON";
  }
}

async function jobs(): Promise<Array<Record<string, unknown>>> {
  const response = await fetch(`${rig().topology.service("config").url()}/jobs`);
  return (await response.json()) as Array<Record<string, unknown>>;
}

describe("config faults on processes", () => {
  it("config.add-job for a new dataset publishes an empty config (config.emptyOnNewDataset); config.revert a non-empty one", async () => {
    await rig().inject({ kind: "config.add-job", tenant: "t000", dataset: "dns_logs" });
    expect(await published()).toMatchObject({ jobs: [] });
    expect(rig().notes.at(-1)).toMatch(
      /^job job-\d+ added: t000\/dns_logs → sink-0\/t000.dns_logs \(config v\d+, a new dataset\)$/,
    );
    await rig().inject({ kind: "config.revert" });
    expect(await published()).toMatchObject({ jobs: [expect.objectContaining(JOB)] });
  });

  it("config.add-job defaults to the first job tenant and sink-0/<tenant>.<dataset>, and its heal keeps the job", async () => {
    const tenant = rig().workload.jobTenants[0]!;
    const fault = await rig().inject({ kind: "config.add-job", dataset: "firewall_events" });
    await fault.heal();
    expect(await jobs()).toContainEqual(
      expect.objectContaining({
        tenant,
        dataset: "firewall_events",
        destination: `sink-0/${tenant}.firewall_events`,
        enabled: true,
      }),
    );
    await rig().inject({ kind: "config.revert" });
  });

  it('config.add-job with onHeal "disable-job": heal disables the job, which regenerates a non-empty config', async () => {
    const fault = await rig().inject({
      kind: "config.add-job",
      tenant: "t002",
      dataset: "audit_logs",
      onHeal: "disable-job",
    });
    expect(await published()).toMatchObject({ jobs: [] });
    await fault.heal();
    expect(await jobs()).toContainEqual(
      expect.objectContaining({ tenant: "t002", dataset: "audit_logs", enabled: false }),
    );
    const config = await published();
    expect(config).toMatchObject({ jobs: expect.arrayContaining([expect.objectContaining(JOB)]) });
    expect(config).not.toMatchObject({
      jobs: expect.arrayContaining([expect.objectContaining({ dataset: "audit_logs" })]),
    });
  });

  it("config.push-empty publishes an empty config; heal reverts to a non-empty one", async () => {
    const before = await published();
    const fault = await rig().inject({ kind: "config.push-empty" });
    expect(await published()).toMatchObject({ jobs: [] });
    await fault.heal();
    const after = await published();
    expect(after).toMatchObject({ jobs: expect.arrayContaining([expect.objectContaining(JOB)]) });
    expect((after as { version: number }).version).toBeGreaterThan(
      (before as { version: number }).version + 1,
    );
  });

  it("config.push-corrupt publishes a config that is not JSON; heal reverts to a valid one", async () => {
    const fault = await rig().inject({ kind: "config.push-corrupt" });
    expect(await published()).toBe("not JSON");
    await fault.heal();
    expect(await published()).toMatchObject({
      jobs: expect.arrayContaining([expect.objectContaining(JOB)]),
    });
  });

  it("a job the config service refuses fails the injection with its answer", async () => {
    await expect(
      rig().inject({ kind: "config.add-job", tenant: "t000", dataset: "http_requests" }),
    ).rejects.toThrow(/POST http:\/\/127\.0\.0\.1:\d+\/jobs answered 409: .*already exists/);
  });
});
