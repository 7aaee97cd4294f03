// Runs an experiment on a target (docs/targets.md) with the same phases as on the reference
// pipeline (docs/architecture.md §6) and the same journal:
//
//   startTargetServices → startTargetWorkload → warm up → steadyStateHolds("before") → runMethod
//   → healAll → runRollbacks → steadyStateHolds("after") → stop the workload → drainTarget
//   → watchTargetRecovery → settleTargetVerdict
//
// The method, the heals and the rollbacks are the reference runner's own phases: the fault
// families act on a target's services, links and recorders by name. What differs is where the
// evidence comes from: the workload's record, Spillway's recorders, the OS, and each service's
// own readiness probe; never a /stats endpoint. A target whose services play the reference
// pipeline's forwarder and buffer (docs/targets.md, "The reference pipeline as a target") is the
// exception: its evidence is the reference runner's own (the Observer, the drain on the buffer,
// settleVerdict), so that the reference pipeline run as a target is judged exactly as built in.

import { seededRng } from "../../pipeline/core/seeded-rng.ts";
import type { Experiment } from "../experiment/definition.ts";
import type { Journal, Verdict } from "../experiment/journal.ts";
import { Observer } from "../experiment/observer.ts";
import { drain } from "../experiment/phases/drain.ts";
import { healAll, runRollbacks } from "../experiment/phases/heal.ts";
import { steadyStateHolds } from "../experiment/phases/hypothesis.ts";
import { watchRecoveryTail } from "../experiment/phases/recovery.ts";
import { settleVerdict } from "../experiment/phases/verdict.ts";
import { drivePhases, warmUpThenFaults, type RunOptions } from "../experiment/runner.ts";
import { RunState } from "../experiment/run-state.ts";
import type { AbortSources } from "../experiment/abort.ts";
import { memoryMbOf, referenceAbortSources } from "../experiment/abort-sources.ts";
import { pagesFrom, readPublishedConfig } from "../ledger/collect.ts";
import { rangeTotal } from "../ledger/ledger.ts";
import type { SinkRecord } from "../../pipeline/sink/sink-records.ts";
import { JobRecord } from "../ledger/job-record.ts";
import { realClock } from "../../pipeline/host/real-seam.ts";
import type { Runtime } from "../runtime/runtime.ts";
import { toxiproxyLinks } from "../runtime/toxiproxy-links.ts";
import { resolveWorkloadOptions } from "../workload/options.ts";
import { selectJobTenants, tenantNames } from "../workload/tenants.ts";
import { Workload } from "../workload/workload.ts";
import { createIngress } from "./ingress/index.ts";
import type { Ingress } from "./ingress/ingress.ts";
import {
  defaultVariant,
  targetMemoryCapMb,
  playsReferencePipeline,
  routeEgresses,
  type RunPlaceholder,
  servicePlaying,
  type LoadedTarget,
} from "./load.ts";
import { TargetObserver } from "./observer.ts";
import { startTarget, type StartedTarget } from "./topology.ts";
import { owedEvents, readCounter, settleTargetVerdict } from "./verdict.ts";

const POLL_MS = 250;

/** The process runtime's face for RunState: a target starts its own services (topology.ts). */
const targetRuntime: Runtime = {
  kind: "process",
  clock: realClock,
  start: () => Promise.reject(new Error("a target is started by startTarget")),
};

/**
 * Where a run's evidence comes from and how it is judged: from outside (the target's own
 * readiness probes, the OS, the recorders), or the reference runner's sources for a target
 * playing the reference pipeline. Chosen once, by what the target declares.
 */
interface Evidence {
  /** Which services are unhealthy now, for the steady-state hypothesis. */
  health(): Promise<{ unhealthy: string[] }>;
  /** The buffer's bytes ÷ its bound, for progress; 0 where no buffer is read. */
  bufferFill(): number;
  drain(): Promise<boolean>;
  watchRecovery(): Promise<void>;
  /** Takes the last readings and stops reading; idempotent. */
  stop(): Promise<void>;
  settle(): Promise<Verdict>;
  /** What the experiment's abort conditions read (harness/experiment/abort.ts). */
  abortSources: AbortSources;
}

/** What one run on a target holds beside the RunState. */
interface TargetRun {
  state: RunState;
  target: LoadedTarget;
  variant: string | undefined;
  started: StartedTarget | null;
  ingress: Ingress | null;
  evidence: Evidence | null;
  countersAtStart: Array<number | null>;
}

/**
 * The jobs the routes make: every (tenant, dataset) a route matches, at its egress, or dealt
 * over its egresses in turn, as the reference topology deals its jobs over its sinks
 * (harness/experiment/reference-topology.ts). The destination is `<egress>/all`, or
 * `<egress>/<tenant>.<dataset>` at an HTTP egress that records the destination from the path,
 * which is where a pusher given these jobs posts (docs/targets.md, "Routes").
 */
export function routeJobs(target: LoadedTarget, experiment: Experiment) {
  const workload = resolveWorkloadOptions(experiment.workload);
  const tenants = tenantNames(workload.tenants);
  const fromPath = new Set(
    target.egresses
      .filter(({ spec }) => spec.kind === "http" && spec.destinationFromPath === true)
      .map(({ name }) => name),
  );
  return target.spec.routes.flatMap((route) => {
    const egresses = routeEgresses(route);
    const routeTenants =
      route.match?.jobTenants === true
        ? selectJobTenants(workload)
        : (route.match?.tenants ?? tenants);
    const pairs = routeTenants.flatMap((tenant) =>
      (route.match?.datasets ?? workload.datasets).map((dataset) => ({ tenant, dataset })),
    );
    return pairs.map(({ tenant, dataset }, index) => {
      const egress = egresses[index % egresses.length]!;
      const path = fromPath.has(egress) ? `${tenant}.${dataset}` : "all";
      return { tenant, dataset, destination: `${egress}/${path}` };
    });
  });
}

/** The placeholders the experiment gives the target's templates (load.ts, RUN_PLACEHOLDERS). */
function runValues(
  jobs: ReturnType<typeof routeJobs>,
  experiment: Experiment,
): Record<RunPlaceholder, string> {
  return {
    "jobs.json": JSON.stringify(jobs),
    "datasets.json": JSON.stringify(resolveWorkloadOptions(experiment.workload).datasets),
    "limits.json": JSON.stringify(experiment.topology.limits ?? {}),
  };
}

/** Ports, links, files, recorders and services, each ready; the routes as the job record. */
export async function startTargetServices(run: TargetRun): Promise<void> {
  const { state, target } = run;
  await state.step("start", `start target ${target.spec.name}`, async () => {
    const jobs = routeJobs(target, state.experiment);
    state.jobs = new JobRecord(jobs, 0);
    const started = await startTarget(target, {
      links: state.proxies as ReturnType<typeof toxiproxyLinks>,
      runValues: runValues(jobs, state.experiment),
      ...(run.variant === undefined ? {} : { variant: run.variant }),
    });
    run.started = started;
    state.topology = started;
    // As the reference runner does (phases/start.ts): the config its config service publishes
    // at the start, for config.revert and the verdict; config faults find it by its role.
    const config = servicePlaying(target, "config");
    if (config !== undefined)
      state.jobs.snapshot(
        await readPublishedConfig(started.net, { url: started.service(config.name).url() }, () =>
          state.clock.now(),
        ),
      );
    for (const [service, megabytes] of Object.entries(state.experiment.topology.memoryCapMb ?? {}))
      started.service(service).setMemoryCap(megabytes);
    run.countersAtStart = await Promise.all(
      target.spec.declared.flatMap((declared) =>
        "prometheus" in declared ? [readCounter(started, declared.prometheus)] : [],
      ),
    );
  });
}

/** The evidence from outside (docs/targets.md, "Evidence" and "The verdict"). */
function outsideEvidence(run: TargetRun, started: StartedTarget): Evidence {
  const observer = new TargetObserver(started);
  observer.start();
  let stopping: Promise<void> | undefined;
  const recordedSoFar = recordedEventsTally(started);
  const bound = run.target.spec.bounds.backlogEventsMax;
  return {
    abortSources: {
      // The backlog from outside, as the drain counts it: owed to the routed egresses (copies
      // included) less what the recorders hold; declared drops are counted only after the run.
      buffer: async () => {
        if (bound === undefined) return undefined;
        const owed = owedEvents(run.state.producing().record, run.state.jobs!);
        return { value: owed - (await recordedSoFar()), bound, unit: "events" };
      },
      health: () => observer.healthSamples,
      memoryMb: (service) => memoryMbOf(started, service),
      memoryCapMb: (service) => targetMemoryCapMb(run.state.experiment, run.target, service),
    },
    health: () => observer.health(),
    bufferFill: () => 0,
    drain: () => drainTarget(run.state, started),
    watchRecovery: () => watchTargetRecovery(run.state, observer),
    stop: () => (stopping ??= observer.stop()),
    settle: () =>
      settleTargetVerdict(run.state, {
        started,
        observer,
        countersAtStart: run.countersAtStart,
        acknowledgement: run.ingress?.acknowledgement ?? "",
      }),
  };
}

/**
 * The reference runner's evidence (harness/experiment/runner.ts) on a target playing the
 * reference pipeline: the Observer reads the buffer's /stats, every service's /drops and the
 * config service's published configs; the drain waits on the buffer; settleVerdict judges.
 */
function referenceEvidence(
  state: RunState,
  target: LoadedTarget,
  started: StartedTarget,
): Evidence {
  const observer = new Observer(started, state.experiment.topology.maxBufferMemoryMb);
  state.observer = observer;
  observer.start();
  let stopping: Promise<void> | undefined;
  const memoryCapMb = (service: string) => targetMemoryCapMb(state.experiment, target, service);
  return {
    abortSources: { ...referenceAbortSources(state), memoryCapMb },
    health: () => observer.health(),
    bufferFill: () => (observer.latestBuffer()?.bytes ?? 0) / state.limits.maxBufferBytes,
    drain: () => drain(state),
    watchRecovery: () => watchRecoveryTail(state),
    stop: () => (stopping ??= observer.stop()),
    settle: () => settleVerdict(state, memoryCapMb),
  };
}

/** The evidence, the observer started, and the workload, sending through the ingress link. */
export function startTargetWorkload(run: TargetRun): number {
  const { state, started } = run;
  if (started === null) throw new Error("the workload needs a started target");
  const workloadOptions = resolveWorkloadOptions(state.experiment.workload);
  const { maxAttempts, requestTimeoutMs, retryBaseMs, retryMaxMs, maxRetryAfterMs } =
    workloadOptions;
  const ingress = createIngress(run.target.ingress.spec, started.ingressAddress, {
    payloadChars: workloadOptions.payloadBytes,
    net: started.net,
    ...{ maxAttempts, requestTimeoutMs, retryBaseMs, retryMaxMs, maxRetryAfterMs },
  });
  run.ingress = ingress;
  run.evidence = playsReferencePipeline(run.target)
    ? referenceEvidence(state, run.target, started)
    : outsideEvidence(run, started);
  state.workload = new Workload(
    {
      clock: state.clock,
      rng: seededRng(state.options.seed),
      net: started.net,
      send: (batch) => ingress.send(batch),
    },
    `http://${started.ingressAddress.host}:${started.ingressAddress.port}`,
    state.experiment.workload,
  );
  const workloadStart = state.clock.now();
  state.workload.start();
  return workloadStart;
}

/**
 * Every event the recorders hold so far, counted (copies included): progress, not the ledger.
 * Each call reads only the records added since the last, from each recorder's cursor (its
 * records are kept across its restarts, so the cursor stays good).
 */
function recordedEventsTally(started: StartedTarget): () => Promise<number> {
  const cursors = new Map<string, number>();
  let total = 0;
  return async () => {
    for (const [name, recorder] of started.recorders) {
      const { records, next } = await pagesFrom<SinkRecord>(
        started.net,
        `${recorder.url()}/records`,
        cursors.get(name) ?? 0,
      );
      cursors.set(name, next);
      for (const record of records)
        for (const stream of record.streams) total += rangeTotal(stream.ranges);
    }
    return total;
  };
}

/**
 * The drain: after the workload stops, wait until the recorders hold every acknowledged event,
 * or until nothing new has arrived for the quiet period (what is left will not come: the ledger
 * counts it), or the drain's timeout. A pipeline that retries less often than the quiet period
 * looks drained too early (docs/targets.md, "Pitfalls").
 */
async function drainTarget(state: RunState, started: StartedTarget): Promise<boolean> {
  const { timeout, quiet } = state.experiment.drain;
  // Copies included: an event routed to two egresses is owed at both (docs/targets.md, "Routes").
  const owed = owedEvents(state.producing().record, state.jobs!);
  const deadline = state.clock.now() + timeout;
  const recordedSoFar = recordedEventsTally(started);
  let last = -1;
  let lastChangeAt = state.clock.now();
  while (state.clock.now() < deadline) {
    const recorded = await recordedSoFar().catch(() => last);
    if (recorded >= owed) return true;
    if (recorded !== last) {
      last = recorded;
      lastChangeAt = state.clock.now();
    } else if (state.clock.now() - lastChangeAt >= quiet) {
      state.note(
        `drained: nothing new reached the recorders for ${quiet} ms (${recorded} of the ${owed} events owed to the routed egresses recorded)`,
      );
      return true;
    }
    await state.sleep(POLL_MS);
  }
  return false;
}

/** After the drain, keep watching until every service is healthy or the recovery bound passed. */
async function watchTargetRecovery(state: RunState, observer: TargetObserver): Promise<void> {
  if (state.lastHealAt === null) return;
  const until = state.lastHealAt + state.experiment.recoveryBound;
  while (state.clock.now() < until) {
    const latest = observer.healthSamples[observer.healthSamples.length - 1];
    if (latest !== undefined && latest.at > state.lastHealAt && latest.unhealthy.length === 0)
      return;
    await state.sleep(POLL_MS);
  }
}

async function runUntilFaultsEnd(run: TargetRun, onStarted: () => void): Promise<void> {
  const { state } = run;
  await startTargetServices(run);
  onStarted();
  const workloadStart = startTargetWorkload(run);
  await warmUpThenFaults(state, workloadStart, run.evidence!.abortSources, () =>
    run.evidence!.health(),
  );
}

async function finish(run: TargetRun): Promise<void> {
  const { state } = run;
  if (state.topology === null) return;
  await healAll(state);
  await runRollbacks(state);
  const { workload } = state;
  const { evidence } = run;
  if (workload === null || evidence === null) return;
  if (state.status === "completed")
    state.deviated = !(await steadyStateHolds(state, "after", () => evidence.health()).catch(
      () => false,
    ));
  await state.step("drain", "stop workload", () => workload.stop()).catch(() => undefined);
  await run.ingress?.close().catch(() => undefined);
  state.drained = await state.step("drain", "drain", () => evidence.drain()).catch(() => false);
  if (state.status === "completed")
    await state
      .step("recovery", "watch recovery", () => evidence.watchRecovery())
      .catch(() => undefined);
  await evidence.stop();
  if (state.status !== "completed" && state.status !== "aborted") return;
  state.verdict = await state
    .step("verdict", "settle the ledgers and check the invariants", () => evidence.settle())
    .catch((failure) => {
      state.status = "failed";
      state.error = (failure as Error).stack ?? String(failure);
      return null;
    });
}

export interface TargetRunOptions extends Omit<RunOptions, "runtime" | "profile" | "flaws"> {
  /** The variant of the target's variables (default: its default variant). */
  variant?: string;
}

/** Runs `experiment` on `target`; the journal's profile is the variant's name. */
export async function runOnTarget(
  experiment: Experiment,
  target: LoadedTarget,
  options: TargetRunOptions,
): Promise<Journal> {
  const variant = options.variant ?? defaultVariant(target);
  const runOptions: RunOptions = { ...options, profile: variant ?? target.spec.name };
  const links = toxiproxyLinks(
    options.toxiproxyUrl === undefined ? {} : { url: options.toxiproxyUrl },
  );
  const state = new RunState(experiment, runOptions, targetRuntime, links, links);
  const run: TargetRun = {
    state,
    target,
    variant,
    started: null,
    ingress: null,
    evidence: null,
    countersAtStart: [],
  };
  const journal = await drivePhases(
    state,
    {
      label: `experiment ${experiment.name} on target ${target.spec.name}`,
      untilFaultsEnd: (onStarted) => runUntilFaultsEnd(run, onStarted),
      finish: () => finish(run),
      release: async () => {
        await run.evidence?.stop().catch(() => undefined);
        await run.ingress?.close().catch(() => undefined);
      },
      bufferFill: () => run.evidence?.bufferFill() ?? 0,
    },
    options.onProgress,
  );
  return {
    ...journal,
    runtime: "process",
    target: {
      name: target.spec.name,
      file: target.file,
      variant: variant ?? null,
      ingress: run.target.ingress.spec.kind,
      acknowledgement: run.ingress?.acknowledgement ?? null,
    },
  };
}
