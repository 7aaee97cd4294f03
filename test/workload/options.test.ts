import { describe, expect, it } from "vitest";
import { resolveWorkloadOptions, WorkloadOptionsError } from "../../harness/workload/options.ts";

describe("workload options", () => {
  it("fill in a default for every knob", () => {
    const options = resolveWorkloadOptions({});
    expect(options).toMatchObject({
      tenants: 20,
      zipfExponent: 1,
      jobShare: 0.5,
      datasets: ["http_requests", "firewall_events"],
      producers: 4,
      batchSize: 500,
      concurrency: 8,
      maxAttempts: 5,
    });
    expect(options.jobTenants).toBeUndefined();
  });

  it("name the field, the value and the expectation of each problem", () => {
    const attempt = () =>
      resolveWorkloadOptions(
        { tenants: 0, datasets: ["ok", "not ok"], eventsPerSecond: -5 },
        "experiment.workload",
      );
    expect(attempt).toThrow(WorkloadOptionsError);
    expect(attempt).toThrow(/experiment\.workload\.tenants is 0: .*>=1/);
    expect(attempt).toThrow(
      /experiment\.workload\.datasets\.1 is "not ok": expected 1-64 characters/,
    );
    expect(attempt).toThrow(/experiment\.workload\.eventsPerSecond is -5/);
  });

  it("refuse unknown options by name", () => {
    expect(() => resolveWorkloadOptions({ tenant: 3 })).toThrow(
      /workload: unknown option "tenant"/,
    );
  });

  it("refuse a batch that could not fit in the forwarder's body limit", () => {
    expect(() => resolveWorkloadOptions({ batchSize: 20_000, payloadBytes: 4_096 })).toThrow(
      /workload\.batchSize is 20000: a batch of 20000 events of 4096 payload bytes/,
    );
  });

  it("refuse job tenants that are not among the tenants", () => {
    expect(() => resolveWorkloadOptions({ tenants: 3, jobTenants: ["t001", "t003"] })).toThrow(
      /workload\.jobTenants\.1 is "t003": expected one of the workload's tenants \(t000..t002\)/,
    );
  });

  it("refuse a retry ceiling under the retry base", () => {
    expect(() => resolveWorkloadOptions({ retryBaseMs: 500, retryMaxMs: 100 })).toThrow(
      /workload\.retryMaxMs is 100: expected at least retryBaseMs \(500\)/,
    );
  });

  it("accept their own output again unchanged", () => {
    const options = resolveWorkloadOptions({ tenants: 7, jobTenants: ["t006"] });
    expect(resolveWorkloadOptions(options)).toEqual(options);
  });
});
