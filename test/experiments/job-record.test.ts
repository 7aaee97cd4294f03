// The ledger judges against the harness's own record of the job changes it asked for, not the
// config service's /timeline: a config service restarted with its data wiped forgets a job
// added during the run, and the events it then filters are lost, not "unconfigured". The
// service's timeline is the cross-check, and the disagreement is in the verdict.

import { describe, expect, it } from "vitest";
import { parseExperiment } from "../../harness/experiment/definition.ts";
import { runOnSimulator } from "../../harness/experiment/sim-run.ts";
import { selectJobTenants, tenantNames } from "../../harness/workload/tenants.ts";

const workload = { tenants: 6, jobShare: 0.5, eventsPerSecond: 300, batchSize: 20 };

function tenantWithoutJob(): string {
  const parsed = parseExperiment(
    { name: "probe", description: "probe", duration: "1s", workload },
    "probe",
  );
  const withJob = new Set(selectJobTenants(parsed.workload));
  return tenantNames(parsed.workload.tenants).find((tenant) => !withJob.has(tenant))!;
}

describe("the job timeline the ledger judges against", () => {
  it("is the harness's record: a job the config service forgot in a wipe still expects its events", async () => {
    const tenant = tenantWithoutJob();
    const experiment = parseExperiment(
      {
        name: "forgotten-job",
        description: "a job added, then the config service restarted with its data wiped",
        profile: "hardened",
        topology: { sinks: 1, limits: { configPollMs: 100 } },
        workload,
        duration: "12s",
        warmup: "1s",
        method: [
          { at: "1s", fault: { kind: "config.add-job", tenant, dataset: "http_requests" } },
          { at: "4s", fault: { kind: "process.restart", service: "config", wipeData: true } },
        ],
      },
      "forgotten-job",
    );
    const { journal } = await runOnSimulator(experiment, { profile: "hardened", seed: 3 });
    expect(journal.status).toBe("completed");
    const verdict = journal.verdict!;
    // Its events after the wipe were filtered as unconfigured by the pipeline: lost, silently.
    expect(verdict.ledgerByTenant[tenant]?.lost).toBeGreaterThan(0);
    expect(verdict.invariants["no-silent-loss"]?.status).toBe("violated");
    expect(verdict.jobTimeline?.source).toBe("harness");
    const crossCheck = verdict.jobTimeline!.crossCheck;
    expect(crossCheck).toMatchObject({ agrees: false });
    expect("first" in crossCheck && crossCheck.first[0]).toMatchObject({
      tenant,
      dataset: "http_requests",
      harness: "enabled",
    });
  });

  it("agrees with the config service's timeline when nothing rewrote it", async () => {
    const tenant = tenantWithoutJob();
    const experiment = parseExperiment(
      {
        name: "added-job",
        description: "a job added, then disabled",
        topology: { sinks: 1, limits: { configPollMs: 100 } },
        workload,
        duration: "8s",
        warmup: "1s",
        method: [
          {
            at: "1s",
            for: "3s",
            fault: {
              kind: "config.add-job",
              tenant,
              dataset: "http_requests",
              onHeal: "disable-job",
            },
          },
        ],
      },
      "added-job",
    );
    const { journal } = await runOnSimulator(experiment, { profile: "hardened", seed: 3 });
    const verdict = journal.verdict!;
    expect(verdict.jobTimeline?.crossCheck).toMatchObject({ agrees: true, disagreements: 0 });
    // Events of the added job were expected while it was enabled, and none was lost.
    expect(verdict.ledgerByTenant[tenant]?.expected).toBeGreaterThan(0);
    expect(verdict.ledger.lost).toBe(0);
  });
});
