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
// own readiness probe; never a /stats endpoint.

import { seededRng } from "../../pipeline/core/seeded-rng.ts";
import type { Experiment } from "../experiment/definition.ts";
import type { Journal } from "../experiment/journal.ts";
import { healAll, runRollbacks } from "../experiment/phases/heal.ts";
import { steadyStateHolds } from "../experiment/phases/hypothesis.ts";
import { runMethod } from "../experiment/phases/method.ts";
import { journalOf, type RunOptions } from "../experiment/runner.ts";
import { Interrupted, RunState } from "../experiment/run-state.ts";
import { collectDeliveries } from "../ledger/collect.ts";
import { JobRecord } from "../ledger/job-record.ts";
import { registerCleanup, signalReceived } from "../runtime/cleanup.ts";
import { every } from "../runtime/every.ts";
import { realClock } from "../../pipeline/host/real-seam.ts";
import type { Runtime } from "../runtime/runtime.ts";
import { toxiproxyLinks } from "../runtime/toxiproxy-links.ts";
import { resolveWorkloadOptions } from "../workload/options.ts";
import { tenantNames } from "../workload/tenants.ts";
import { Workload } from "../workload/workload.ts";
import { createIngress } from "./ingress/index.ts";
import type { Ingress } from "./ingress/ingress.ts";
import { defaultVariant, type LoadedTarget } from "./load.ts";
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

/** What one run on a target holds beside the RunState. */
interface TargetRun {
  state: RunState;
  target: LoadedTarget;
  variant: string | undefined;
  started: StartedTarget | null;
  ingress: Ingress | null;
  observer: TargetObserver | null;
  countersAtStart: Array<number | null>;
}

/** The jobs the routes make: every (tenant, dataset) a route matches, at its egress. */
export function routeJobs(target: LoadedTarget, experiment: Experiment) {
  const workload = resolveWorkloadOptions(experiment.workload);
  const tenants = tenantNames(workload.tenants);
  return target.spec.routes.flatMap((route) =>
    (route.match?.tenants ?? tenants).flatMap((tenant) =>
      (route.match?.datasets ?? workload.datasets).map((dataset) => ({
        tenant,
        dataset,
        destination: `${route.egress}/all`,
      })),
    ),
  );
}

/** Ports, links, files, recorders and services, each ready; the routes as the job record. */
export async function startTargetServices(run: TargetRun): Promise<void> {
  const { state, target } = run;
  await state.step("start", `start target ${target.spec.name}`, async () => {
    state.jobs = new JobRecord(routeJobs(target, state.experiment), 0);
    const started = await startTarget(target, {
      links: state.proxies as ReturnType<typeof toxiproxyLinks>,
      ...(run.variant === undefined ? {} : { variant: run.variant }),
    });
    run.started = started;
    state.topology = started;
    for (const [service, megabytes] of Object.entries(state.experiment.topology.memoryCapMb ?? {}))
      started.service(service).setMemoryCap(megabytes);
    run.countersAtStart = await Promise.all(
      target.spec.declared.flatMap((declared) =>
        "prometheus" in declared ? [readCounter(started, declared.prometheus)] : [],
      ),
    );
  });
}

/** The observer and the workload, sending through the ingress link. */
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
  run.observer = new TargetObserver(started);
  run.observer.start();
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

/** Every event the recorders hold so far, counted (copies included): progress, not the ledger. */
async function recordedSoFar(started: StartedTarget): Promise<number> {
  let total = 0;
  for (const [name, recorder] of started.recorders) {
    const deliveries = await collectDeliveries(started.net, [
      { name, component: "sink", url: recorder.url() },
    ]);
    for (const delivery of deliveries)
      for (const stream of delivery.streams)
        for (const [from, to] of stream.ranges) total += to - from + 1;
  }
  return total;
}

/**
 * The drain: after the workload stops, wait until the recorders hold every acknowledged event,
 * or until nothing new has arrived for the quiet period (what is left will not come: the ledger
 * counts it), or the drain's timeout. A pipeline that retries less often than the quiet period
 * looks drained too early (docs/targets.md, "Pitfalls").
 */
export async function drainTarget(run: TargetRun): Promise<boolean> {
  const { state, started } = run;
  if (started === null) return false;
  const { timeout, quiet } = state.experiment.drain;
  // Copies included: an event routed to two egresses is owed at both (docs/targets.md, "Routes").
  const owed = owedEvents(state.producing().record, state.jobs!);
  const deadline = state.clock.now() + timeout;
  let last = -1;
  let lastChangeAt = state.clock.now();
  while (state.clock.now() < deadline) {
    const recorded = await recordedSoFar(started).catch(() => last);
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
export async function watchTargetRecovery(run: TargetRun): Promise<void> {
  const { state, observer } = run;
  if (observer === null || state.lastHealAt === null) return;
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
  const { experiment } = state;
  await startTargetServices(run);
  onStarted();
  const workloadStart = startTargetWorkload(run);
  const health = () => run.observer!.health();
  await state.step("warmup", `warm up ${experiment.warmup} ms`, () =>
    state.sleep(experiment.warmup),
  );
  if (!(await steadyStateHolds(state, "before", health))) {
    state.status = "aborted";
    return;
  }
  await runMethod(state, state.clock.now());
  await state.sleep(workloadStart + experiment.duration - state.clock.now());
}

async function finish(run: TargetRun): Promise<void> {
  const { state } = run;
  if (state.topology === null) return;
  await healAll(state);
  await runRollbacks(state);
  const { workload } = state;
  const { observer, started } = run;
  if (workload === null || observer === null || started === null) return;
  if (state.status === "completed")
    state.deviated = !(await steadyStateHolds(state, "after", () => observer.health()).catch(
      () => false,
    ));
  await state.step("drain", "stop workload", () => workload.stop()).catch(() => undefined);
  await run.ingress?.close().catch(() => undefined);
  state.drained = await state.step("drain", "drain", () => drainTarget(run)).catch(() => false);
  if (state.status === "completed")
    await state
      .step("recovery", "watch recovery", () => watchTargetRecovery(run))
      .catch(() => undefined);
  await observer.stop();
  if (state.status !== "completed" && state.status !== "aborted") return;
  state.verdict = await state
    .step("verdict", "settle the ledgers and check the invariants", () =>
      settleTargetVerdict(state, {
        started,
        observer,
        countersAtStart: run.countersAtStart,
        acknowledgement: run.ingress?.acknowledgement ?? "",
      }),
    )
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
    observer: null,
    countersAtStart: [],
  };
  let finishing: Promise<void> | null = null;
  let unregister: (() => void) | null = null;
  const registerInterruption = (): void => {
    unregister = registerCleanup({
      label: `experiment ${experiment.name} on target ${target.spec.name}`,
      run: async () => {
        if (state.status === "completed") state.status = "interrupted";
        state.interruption.abort();
        while (finishing === null) await state.clock.sleep(50);
        await finishing;
      },
    });
  };
  const progress = every(state.clock, 1_000, () => {
    if (state.workload === null || options.onProgress === undefined) return;
    options.onProgress({
      phase: state.phase,
      elapsedMs: state.since(),
      eventsPerSecond: state.workload.stats().eventsPerSecond,
      bufferFill: 0,
    });
  });
  try {
    await runUntilFaultsEnd(run, registerInterruption);
  } catch (failure) {
    if (failure instanceof Interrupted || state.interrupted() || signalReceived() !== null)
      state.status = "interrupted";
    else {
      state.status = "failed";
      state.error = (failure as Error).stack ?? String(failure);
    }
  }
  finishing = (async () => {
    try {
      await finish(run);
    } finally {
      progress.cancel();
      await run.observer?.stop().catch(() => undefined);
      await run.ingress?.close().catch(() => undefined);
      await state.topology?.stop().catch(() => undefined);
      await links.close().catch(() => undefined);
    }
  })();
  await finishing;
  (unregister as (() => void) | null)?.();
  const journal = journalOf(state);
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
