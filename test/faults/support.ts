// Shared by the fault tests: one real topology per test file on processes (the reference
// pipeline by default, optionally with a fault proxy on every link) and a workload aimed at its
// forwarder. Faults injected through the rig are healed after their test if the test did not
// heal them; the topology, the workload and the temp dir go after the file, pass or fail.

import { afterAll, afterEach, beforeAll } from "vitest";
import type { Limits } from "../../pipeline/core/limits.ts";
import { encodeEvent, makePayload, type EventId } from "../../pipeline/core/event.ts";
import { seededRng } from "../../pipeline/core/seeded-rng.ts";
import { createRealNet, realClock } from "../../pipeline/host/real-seam.ts";
import { referenceTopology } from "../../harness/experiment/reference-topology.ts";
import type { ActiveFault, FaultContext } from "../../harness/faults/fault.ts";
import { JobRecord } from "../../harness/ledger/job-record.ts";
import { injectFault, parseFaultStep, type FaultStepInput } from "../../harness/faults/registry.ts";
import { processRuntime } from "../../harness/runtime/process/process-runtime.ts";
import type { Runtime, RunningTopology } from "../../harness/runtime/runtime.ts";
import type { TopologySpec } from "../../harness/runtime/topology.ts";
import { toxiproxyLinks, type ToxiproxyLinks } from "../../harness/runtime/toxiproxy-links.ts";
import type { WorkloadOptionsInput } from "../../harness/workload/options.ts";
import { plannedJobs } from "../../harness/workload/tenants.ts";
import { Workload } from "../../harness/workload/workload.ts";
import { useTempDir } from "../support/temp-dir.ts";

export { eventually } from "../runtime/support.ts";

/** Quick reactions, so that a test sees the pipeline respond within a second or two. */
export const FAST_LIMITS: Partial<Limits> = {
  configPollMs: 50,
  bufferTimeoutMs: 500,
  pushTimeoutMs: 1_000,
  leaseMs: 3_000,
  retryMaxMs: 500,
};

/** Four tenants, of which t000 and t002 have a job, over one dataset. */
export const WORKLOAD: WorkloadOptionsInput = {
  tenants: 4,
  jobShare: 0.5,
  datasets: ["http_requests"],
  eventsPerSecond: 200,
  batchSize: 20,
  flushIntervalMs: 50,
};

export interface RigOptions {
  /** A fault proxy on every link (toxiproxyLinks()). */
  proxies?: boolean;
  flaws?: string[];
  /** Another topology than the reference pipeline with one sink. */
  topology?: TopologySpec;
  workload?: WorkloadOptionsInput;
  /** Another runtime than processes (the container suite's). */
  runtime?: () => Runtime;
}

export interface FaultRig {
  topology: RunningTopology;
  links: ToxiproxyLinks | null;
  /** Aimed at the forwarder; not started unless a test starts it. */
  workload: Workload;
  /** Lines the faults wrote to the journal. */
  notes: string[];
  context(overrides?: Partial<FaultContext>): FaultContext;
  /** Validates and injects a step; it is healed after the test unless the test heals it. */
  inject(step: FaultStepInput, overrides?: Partial<FaultContext>): Promise<ActiveFault>;
}

export function referenceSpec(options: RigOptions): TopologySpec {
  const workload = { ...WORKLOAD, ...options.workload };
  return referenceTopology({
    profile: "hardened",
    flaws: options.flaws,
    sinks: 1,
    jobs: plannedJobs({ tenants: 4, jobShare: 0.5, datasets: ["http_requests"], ...workload }),
    datasets: workload.datasets ?? [],
    limits: FAST_LIMITS,
  });
}

/** Starts the rig's topology before the file's tests; the returned function gives the rig. */
export function useFaultRig(options: RigOptions = {}): () => FaultRig {
  const tempRoot = useTempDir("spillway-faults-");
  const net = createRealNet(16);
  let rig: FaultRig | undefined;
  let topology: RunningTopology | undefined;
  const pending: ActiveFault[] = [];

  beforeAll(async () => {
    const links = options.proxies === true ? toxiproxyLinks() : null;
    const runtime =
      options.runtime?.() ?? processRuntime({ tempRoot, limits: { stopGraceMs: 2_000 } });
    topology = await runtime.start(
      options.topology ?? referenceSpec(options),
      links === null ? {} : { links },
    );
    const started = topology;
    const forwarder = started.services.find((service) => service.component === "forwarder");
    const workload = new Workload(
      { clock: realClock, rng: seededRng(1), net },
      forwarder?.url() ?? "http://127.0.0.1:9",
      { ...WORKLOAD, ...options.workload },
    );
    const notes: string[] = [];
    const jobs = new JobRecord([], realClock.now());
    const context = (overrides: Partial<FaultContext> = {}): FaultContext => ({
      topology: started,
      workload,
      links,
      jobs,
      note: (message) => notes.push(message),
      ...overrides,
    });
    rig = {
      topology: started,
      links,
      workload,
      notes,
      context,
      async inject(step, overrides) {
        const fault = await injectFault(context(overrides), parseFaultStep(step));
        pending.push(fault);
        return fault;
      },
    };
  });

  afterEach(async () => {
    for (let fault = pending.pop(); fault !== undefined; fault = pending.pop()) {
      await fault.heal().catch(() => {});
    }
  });

  afterAll(async () => {
    try {
      await rig?.workload.stop(1_000).catch(() => {});
      await topology?.stop();
    } finally {
      net.close();
    }
  });

  return () => {
    if (rig === undefined) throw new Error("the fault rig's topology did not start");
    return rig;
  };
}

let nextSeq = 0;

/** One event of a configured pair, as the edge would send it (a fresh seq each time). */
export function eventLine(tenant = "t000", dataset = "http_requests"): string {
  const id: EventId = { tenant, dataset, producer: "fault-test", seq: nextSeq++ };
  return `${encodeEvent({ ...id, payload: makePayload(id, 16) })}\n`;
}

export interface Answer {
  status: number;
  body: string;
  headers: Headers;
  ms: number;
}

/** POSTs `body` to `url` on a fresh connection and times the answer. */
export async function post(url: string, body: string, timeoutMs = 10_000): Promise<Answer> {
  const started = Date.now();
  const response = await fetch(url, {
    method: "POST",
    body,
    headers: { connection: "close" },
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text,
    headers: response.headers,
    ms: Date.now() - started,
  };
}

/** Sends one event of a configured pair to the forwarder. */
export function ingest(rig: FaultRig, tenant?: string): Promise<Answer> {
  return post(`${rig.topology.service("forwarder").url()}/ingest`, eventLine(tenant));
}
