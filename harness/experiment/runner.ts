// Runs one experiment on one profile: start the topology, drive the workload, check the
// steady-state hypothesis, inject the timed faults, heal them, run the rollbacks (always: also
// on failure and on interruption), drain, settle every event in the ledger and check the
// invariants. Writes every step into the journal.

import type { Flaw } from "../../pipeline/core/flaws.ts";
import { resolveLimits } from "../../pipeline/core/limits.ts";
import { seededRng } from "../../pipeline/core/seeded-rng.ts";
import type { ActiveFault, FaultContext } from "../faults/fault.ts";
import { faultKind } from "../faults/registry.ts";
import { checkInvariants } from "../invariants/index.ts";
import type { InvariantName, Observations } from "../invariants/types.ts";
import { collectDeliveries, collectJobs } from "../ledger/collect.ts";
import { computeLedger } from "../ledger/ledger.ts";
import { registerCleanup, signalReceived } from "../runtime/cleanup.ts";
import { every } from "../runtime/every.ts";
import { directLinks, type LinkProvider } from "../runtime/links.ts";
import { processRuntime } from "../runtime/process/process-runtime.ts";
import type { Runtime, RunningTopology } from "../runtime/runtime.ts";
import { toxiproxyLinks } from "../runtime/toxiproxy-links.ts";
import { selectJobTenants } from "../workload/tenants.ts";
import { Workload } from "../workload/workload.ts";
import type { Experiment, FaultStep } from "./definition.ts";
import type { Journal, JournalStep, Outcome, RunStatus, Verdict } from "./journal.ts";
import { ledgerStreams, withinWindow } from "./ledger-input.ts";
import { Observer } from "./observer.ts";
import { referenceTopology } from "./reference-topology.ts";

export const SPILLWAY_VERSION = "0.1.0";

export interface Progress {
  phase: string;
  elapsedMs: number;
  eventsPerSecond: number;
  /** Buffer bytes held ÷ the profile's bound (may exceed 1 on legacy). */
  bufferFill: number;
}

export interface RunOptions {
  profile: string;
  /** Replaces the profile's flaws (then the experiment's expectations do not apply). */
  flaws?: Flaw[];
  seed: number;
  /** A real Toxiproxy to use instead of the embedded server. */
  toxiproxyUrl?: string;
  onProgress?: (progress: Progress) => void;
  /** Aborting it interrupts the run: faults heal, rollbacks run, the journal says interrupted. */
  signal?: AbortSignal;
  /** Where the pipeline runs: processes by default, or the simulator. */
  runtime?: Runtime;
}

class Interrupted extends Error {
  constructor() {
    super("interrupted");
    this.name = "Interrupted";
  }
}

function needsProxies(experiment: Experiment): boolean {
  if (experiment.topology.proxies) return true;
  return [...experiment.method.map((step) => step.fault), ...experiment.rollbacks].some(
    (fault) => fault.kind.startsWith("network.") || fault.kind === "sink.down",
  );
}

/** The faults' parameters, parsed by their kind's schema (the experiment was validated). */
function prepare(fault: FaultStep): {
  name: string;
  run: (context: FaultContext) => Promise<ActiveFault>;
} {
  const { kind: name, ...params } = fault;
  const kind = faultKind(name);
  const parsed = kind.params.parse(params);
  return { name, run: (context) => kind.inject(context, parsed) };
}

function expectationsFor(
  experiment: Experiment,
  options: RunOptions,
): Partial<Record<InvariantName, "held" | "violated">> {
  if (options.flaws !== undefined) return {};
  return experiment.expect?.[options.profile as keyof NonNullable<Experiment["expect"]>] ?? {};
}

export async function runExperiment(experiment: Experiment, options: RunOptions): Promise<Journal> {
  const runtime = options.runtime ?? processRuntime();
  const { clock } = runtime;
  const started = clock.now();
  const since = (): number => clock.now() - started;
  const steps: JournalStep[] = [];
  const notes: Journal["notes"] = [];
  const note = (message: string): void => void notes.push({ atMs: since(), message });
  let phase = "start";
  let status: RunStatus = "completed";
  let deviated = false;
  let error: string | undefined;
  let verdict: Verdict | null = null;

  const limits = resolveLimits(experiment.topology.limits ?? {});
  const jobTenants = selectJobTenants(experiment.workload);
  const jobs = jobTenants.flatMap((tenant) =>
    experiment.workload.datasets.map((dataset) => ({ tenant, dataset })),
  );
  // Fault proxies on every link when a fault needs one; otherwise services call each other directly.
  const proxies = !needsProxies(experiment)
    ? null
    : (runtime.faultLinks?.() ??
      toxiproxyLinks(options.toxiproxyUrl === undefined ? {} : { url: options.toxiproxyUrl }));
  const linkProvider: LinkProvider = proxies ?? directLinks();

  let topology: RunningTopology | null = null;
  let workload: Workload | null = null;
  let observer: Observer | null = null;
  const active: Array<{ name: string; fault: ActiveFault }> = [];
  let firstFaultAt: number | null = null;
  let lastHealAt: number | null = null;
  let recoveredAt: number | null = null;
  let drained = false;

  // Aborted by the caller's signal or by a SIGINT/SIGTERM reaching the cleanup registry.
  const interruption = new AbortController();
  options.signal?.addEventListener("abort", () => interruption.abort(), { once: true });
  const interrupted = (): boolean => interruption.signal.aborted;
  const sleep = async (ms: number): Promise<void> => {
    const until = clock.now() + ms;
    while (clock.now() < until) {
      if (interrupted()) throw new Interrupted();
      await clock.sleep(Math.min(100, until - clock.now()));
    }
  };
  async function step<T>(stepPhase: string, name: string, body: () => Promise<T>): Promise<T> {
    phase = stepPhase;
    const startedMs = since();
    try {
      const result = await body();
      steps.push({ phase: stepPhase, name, startedMs, endedMs: since(), ok: true });
      return result;
    } catch (failure) {
      steps.push({
        phase: stepPhase,
        name,
        startedMs,
        endedMs: since(),
        ok: false,
        detail: (failure as Error).message,
      });
      throw failure;
    }
  }

  const context = (): FaultContext => ({
    topology: topology!,
    workload: workload!,
    links: proxies,
    note,
  });

  async function healAll(): Promise<void> {
    while (active.length > 0) {
      const { name, fault } = active.pop()!;
      await step("heal", name, () => fault.heal()).catch(() => undefined);
      lastHealAt = clock.now();
    }
  }

  /** Probes until the hypothesis holds or its timeout passes; notes what failed last. */
  async function steadyStateHolds(when: string): Promise<boolean> {
    return step("steady-state", `hypothesis ${when}`, async () => {
      const deadline = clock.now() + experiment.steadyState.timeout;
      let problems: string[];
      do {
        problems = [];
        if (experiment.steadyState.healthy) {
          const health = await observer!.health();
          if (health.unhealthy.length > 0)
            problems.push(`unhealthy: ${health.unhealthy.join(", ")}`);
        }
        if (when === "before") {
          const before = workload!.stats().acked;
          await sleep(experiment.steadyState.deliveringWithin);
          if (workload!.stats().acked === before) {
            problems.push(
              `nothing acknowledged within ${experiment.steadyState.deliveringWithin} ms`,
            );
          }
        }
        if (problems.length === 0) return true;
        await sleep(500);
      } while (clock.now() < deadline);
      note(
        `steady-state hypothesis ${when} not met within ${experiment.steadyState.timeout} ms: ${problems.join("; ")}`,
      );
      return false;
    });
  }

  async function runMethod(methodStart: number): Promise<void> {
    const pending = experiment.method
      .map((methodStep, index) => ({ ...methodStep, index, prepared: prepare(methodStep.fault) }))
      .sort((a, b) => a.at - b.at || a.index - b.index);
    const heals: Array<{ at: number; entry: { name: string; fault: ActiveFault } }> = [];
    while (pending.length > 0 || heals.length > 0) {
      const now = clock.now() - methodStart;
      const nextStart = pending[0]?.at ?? Number.POSITIVE_INFINITY;
      const nextHeal = heals.reduce(
        (min, heal) => Math.min(min, heal.at),
        Number.POSITIVE_INFINITY,
      );
      const wait = Math.min(nextStart, nextHeal) - now;
      if (wait > 0) {
        await sleep(wait);
        continue;
      }
      if (nextHeal <= nextStart) {
        const index = heals.findIndex((heal) => heal.at === nextHeal);
        const [{ entry }] = heals.splice(index, 1) as [
          { at: number; entry: { name: string; fault: ActiveFault } },
        ];
        active.splice(active.indexOf(entry), 1);
        await step("heal", entry.name, () => entry.fault.heal());
        lastHealAt = clock.now();
        continue;
      }
      const methodStep = pending.shift()!;
      firstFaultAt ??= clock.now();
      const fault = await step(
        "method",
        methodStep.prepared.name + (methodStep.note ? ` (${methodStep.note})` : ""),
        () => methodStep.prepared.run(context()),
      );
      const entry = { name: methodStep.prepared.name, fault };
      active.push(entry);
      if (methodStep.for !== undefined) heals.push({ at: methodStep.at + methodStep.for, entry });
    }
  }

  async function watchRecovery(until: () => boolean): Promise<void> {
    const threshold = Math.max(1024 * 1024, 4 * (observer!.latestBuffer()?.bytes ?? 0));
    while (!until() && recoveredAt === null) {
      const sample = observer!.latestBuffer();
      if (
        lastHealAt !== null &&
        sample !== undefined &&
        sample.at >= lastHealAt &&
        sample.bytes <= threshold
      ) {
        const health = await observer!.health();
        if (health.unhealthy.length === 0) recoveredAt = health.at;
      }
      await clock.sleep(250);
    }
  }

  /**
   * Drained: the buffer is empty, or it has held the same bytes for a while with nothing
   * leased (what is left belongs to no job and will never move; the ledger counts anything
   * expected among it as lost).
   */
  async function drain(): Promise<boolean> {
    const drainStart = clock.now();
    const deadline = drainStart + experiment.drain.timeout;
    const quietMs = 3_000;
    while (clock.now() < deadline) {
      const samples = observer!.bufferSamples;
      const latest = samples[samples.length - 1];
      // Only a reading taken after the workload stopped can say the buffer drained: an older
      // one may predate the last appends (found by explore on the simulator, where a reading
      // and the workload's last batch can fall on the same millisecond).
      if (latest !== undefined && latest.at > drainStart) {
        if (latest.bytes === 0) return true;
        const window = samples.filter((sample) => sample.at >= latest.at - quietMs);
        const steady =
          window.length >= 8 &&
          window[0]!.at <= latest.at - quietMs + 500 &&
          window.every((sample) => sample.bytes === latest.bytes);
        if (steady) {
          note(`drained: the buffer keeps ${latest.bytes} bytes that no job drains`);
          return true;
        }
      }
      await clock.sleep(250);
    }
    return false;
  }

  async function settle(): Promise<Verdict> {
    const services = topology!.services.map((service) => ({
      name: service.name,
      component: service.component,
      url: service.url(),
    }));
    const [deliveries, { spans }] = await Promise.all([
      collectDeliveries(topology!.net, services),
      collectJobs(
        topology!.net,
        services.find((service) => service.component === "config")!,
      ),
    ]);
    const streams = ledgerStreams(workload!.record);
    const graceMs = 2 * limits.configPollMs + 200;
    const drops = observer!.declaredDrops();
    const ledger = computeLedger({ streams, deliveries, drops, jobs: spans, graceMs });
    const windowLedger =
      firstFaultAt === null
        ? null
        : computeLedger({
            streams: withinWindow(streams, firstFaultAt, lastHealAt ?? clock.now()),
            deliveries,
            drops,
            jobs: spans,
            graceMs,
          });
    const maxBytes = Math.max(0, ...observer!.bufferSamples.map((sample) => sample.highWaterBytes));
    const maxBuffers = Math.max(
      0,
      ...observer!.bufferSamples.map((sample) => sample.highWaterBuffers),
    );
    const observations: Observations = {
      startedAt: started,
      ledger,
      drained,
      unreadableDrops: observer!.unreadable(),
      indeterminateShareMax: experiment.verdict.indeterminateShareMax,
      buffer: {
        service: topology!.service("buffer").name,
        samples: observer!.bufferSamples,
        bounds: {
          maxBufferBytes: limits.maxBufferBytes,
          maxTenantBytes: limits.maxTenantBytes,
          maxBuffers: limits.maxBuffers,
          maxMemoryMb: experiment.topology.maxBufferMemoryMb,
        },
      },
      memoryExceeded: observer!.memoryExceeded,
      configDecisions: observer!.configDecisions(),
      recovery: {
        lastHealAt,
        recoveredAt,
        boundMs: experiment.recoveryBound,
        observedUntil: clock.now(),
      },
    };
    const results = checkInvariants(observations, experiment.invariants);
    const stats = workload!.stats();
    const share = (part: number, whole: number): number => (whole === 0 ? 0 : part / whole);
    return {
      invariants: Object.fromEntries(results.map((result) => [result.name, result])),
      ledger: ledger.totals,
      ledgerByTenant: ledger.tenants,
      incidentWindow:
        windowLedger === null
          ? null
          : {
              fromMs: firstFaultAt! - started,
              toMs: (lastHealAt ?? clock.now()) - started,
              ledger: windowLedger.totals,
              silentLossShare: share(windowLedger.totals.lost, windowLedger.totals.expected),
            },
      figures: {
        produced: stats.produced,
        acknowledged: stats.acked,
        deliveredShare: share(ledger.totals.delivered, ledger.totals.expected),
        silentLossShare: share(ledger.totals.lost, ledger.totals.expected),
        bufferHighWaterBytes: maxBytes,
        bufferHighWaterBuffers: maxBuffers,
        bufferBoundBytes: limits.maxBufferBytes,
        bufferBoundBuffers: limits.maxBuffers,
        eventsPerSecond: share(stats.produced, experiment.duration / 1000),
      },
    };
  }

  let finishing: Promise<void> | null = null;
  let unregister: (() => void) | null = null;
  const progress = every(clock, 1_000, () => {
    if (workload === null || options.onProgress === undefined) return;
    const fill = (observer?.latestBuffer()?.bytes ?? 0) / limits.maxBufferBytes;
    options.onProgress({
      phase,
      elapsedMs: since(),
      eventsPerSecond: workload.stats().eventsPerSecond,
      bufferFill: fill,
    });
  });

  try {
    await step("start", "start topology", async () => {
      topology = await runtime.start(
        referenceTopology({
          profile: options.profile,
          flaws: options.flaws ?? experiment.flaws,
          sinks: experiment.topology.sinks,
          jobs,
          datasets: experiment.workload.datasets,
          limits: experiment.topology.limits as never,
          sinkLatencyMs: experiment.topology.sinkLatencyMs,
        }),
        { links: linkProvider },
      );
      for (const [service, megabytes] of Object.entries(experiment.topology.memoryCapMb ?? {})) {
        topology.service(service).setMemoryCap(megabytes);
      }
    });
    // Runs before the runtime's own cleanup on SIGINT/SIGTERM: heal, roll back, journal. A
    // simulated run holds nothing outside this process, and a simulation that aborts would
    // never unregister it.
    unregister =
      runtime.kind === "sim"
        ? null
        : registerCleanup({
            label: `experiment ${experiment.name}`,
            run: async () => {
              if (status === "completed") status = "interrupted";
              interruption.abort();
              while (finishing === null) await clock.sleep(50);
              await finishing;
            },
          });
    observer = new Observer(topology!, experiment.topology.maxBufferMemoryMb);
    observer.start();
    workload = new Workload(
      { clock, rng: seededRng(options.seed), net: topology!.net },
      topology!.service("forwarder").url(),
      experiment.workload,
    );
    const workloadStart = clock.now();
    workload.start();
    await step("warmup", `warm up ${experiment.warmup} ms`, () => sleep(experiment.warmup));
    if (!(await steadyStateHolds("before"))) {
      status = "aborted";
    } else {
      const methodStart = clock.now();
      await runMethod(methodStart);
      await sleep(workloadStart + experiment.duration - clock.now());
    }
  } catch (failure) {
    if (failure instanceof Interrupted || interrupted() || signalReceived() !== null)
      status = "interrupted";
    else {
      status = "failed";
      error = (failure as Error).stack ?? String(failure);
    }
  }

  finishing = (async () => {
    try {
      if (topology !== null) {
        await healAll();
        for (const rollback of experiment.rollbacks) {
          await step(
            "rollback",
            rollback.kind,
            async () => void (await prepare(rollback).run(context())),
          ).catch(() => undefined);
          lastHealAt = clock.now();
        }
        if (workload !== null && observer !== null) {
          let stopped = false;
          const recovery = watchRecovery(() => stopped);
          await step("drain", "stop workload", () => workload!.stop()).catch(() => undefined);
          drained = await step("drain", "drain", drain).catch(() => false);
          stopped = true;
          await recovery;
          if (recoveredAt === null && drained) {
            // Recovered by the end of the drain at the latest, if every service is healthy.
            const health = await observer.health();
            if (health.unhealthy.length === 0) recoveredAt = health.at;
          }
          if (status === "completed")
            deviated = !(await steadyStateHolds("after").catch(() => false));
          await observer.stop();
          if (status === "completed" || status === "aborted") {
            verdict = await step(
              "verdict",
              "settle the ledger and check the invariants",
              settle,
            ).catch((failure) => {
              status = "failed";
              error = (failure as Error).stack ?? String(failure);
              return null;
            });
          }
        }
      }
    } finally {
      progress.cancel();
      await (topology as RunningTopology | null)?.stop().catch(() => undefined);
      await linkProvider.close().catch(() => undefined);
    }
  })();
  await finishing;
  unregister?.();

  const expected = expectationsFor(experiment, options);
  const outcomes: Outcome[] =
    verdict === null
      ? []
      : experiment.invariants.map((invariant) => {
          const actual = (verdict as Verdict).invariants[invariant]?.status ?? "unknown";
          const wanted = expected[invariant] ?? "held";
          return { invariant, expected: wanted, actual, matched: actual === wanted };
        });
  return {
    spillway: { version: SPILLWAY_VERSION },
    experiment: experiment.name,
    description: experiment.description,
    profile: options.profile,
    flaws: options.flaws ?? experiment.flaws ?? [],
    runtime: runtime.kind,
    seed: options.seed,
    status,
    deviated,
    asExpected:
      status === "completed" && outcomes.length > 0 && outcomes.every((outcome) => outcome.matched),
    ...(error === undefined ? {} : { error }),
    startedAt: new Date(started).toISOString(),
    endedAt: new Date(clock.now()).toISOString(),
    durationMs: since(),
    steps,
    notes,
    verdict,
    outcomes,
  };
}
