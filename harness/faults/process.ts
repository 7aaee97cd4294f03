import { z } from "zod";
// Process faults (docs/architecture.md §4) through the runtime's service handles, so they work on
// every runtime: kill (healed by a restart), pause (healed by resuming), restart (nothing to heal)
// and a memory cap (healed by restoring the service's own cap, and restarting it if the cap
// killed it).

import { answersOk } from "../http/json-client.ts";
import type { RunningTopology, ServiceHandle } from "../runtime/runtime.ts";
import { defineFault, healedBy, nothingToHeal } from "./define.ts";
import { choice, faultParams, integer, serviceName } from "./params.ts";
import { serviceOf } from "./targets.ts";

/** Largest memory cap a fault may set: 64 GiB. */
const MAX_MEMORY_CAP_MB = 65_536;

const serviceTarget = (params: { service: string }) => ({ services: [params.service] });

export const processKill = defineFault({
  name: "process.kill",
  family: "process",
  summary: "kills the service with SIGKILL (a crash) or SIGTERM (a clean stop); heal restarts it",
  params: faultParams({
    service: serviceName(),
    signal: choice(["SIGKILL", "SIGTERM"]).default("SIGKILL"),
  }),
  targets: serviceTarget,
  async inject(context, { service: name, signal }) {
    const service = serviceOf(context.topology, name);
    const exit = await service.kill(signal);
    context.note(`${name} killed with ${signal} (exit ${JSON.stringify(exit)})`);
    return healedBy(async () => {
      // Someone else may have brought it back already (a restart fault, an operator step).
      if (service.state() !== "exited") return;
      await service.restart();
      context.note(`${name} restarted`);
    });
  },
});

export const processPause = defineFault({
  name: "process.pause",
  family: "process",
  summary: "freezes the service (SIGSTOP or container pause): it answers nothing; heal resumes it",
  params: faultParams({ service: serviceName() }),
  targets: serviceTarget,
  async inject(context, { service: name }) {
    const service = serviceOf(context.topology, name);
    await service.pause();
    context.note(`${name} paused`);
    return healedBy(async () => {
      await service.resume();
      context.note(`${name} resumed`);
    });
  },
});

/** Whether a service is down or unhealthy (its own probe, else /healthz 200 within a second). */
async function unhealthy(topology: RunningTopology, service: ServiceHandle): Promise<boolean> {
  if (service.state() !== "running") return true;
  if (service.health !== undefined) return !(await service.health().catch(() => false));
  return !(await answersOk(topology.net, `${service.url()}/healthz`, 1_000));
}

export const processRestart = defineFault({
  name: "process.restart",
  family: "process",
  summary:
    "stops the service gracefully and starts it again, waiting until it is ready; wipeData: an operator's full reset (its durable state is discarded): true, false, or \"if-unhealthy\" (only when the service is down or not answering /healthz, as an operator's runbook would)",
  params: faultParams({
    service: serviceName(),
    wipeData: z
      .custom<boolean | "if-unhealthy">(
        (value) => value === true || value === false || value === "if-unhealthy",
        {
          error: 'expected true, false or "if-unhealthy"',
        },
      )
      .default(false),
    onlyIfUnhealthy: z
      .custom<boolean>((value) => value === true || value === false, {
        error: "expected true or false",
      })
      .default(false),
  }),
  targets: serviceTarget,
  async inject(context, { service: name, wipeData, onlyIfUnhealthy }) {
    const service = serviceOf(context.topology, name);
    const troubled = await unhealthy(context.topology, service);
    if (onlyIfUnhealthy && !troubled) {
      context.note(`${name} is healthy: not restarted`);
      return nothingToHeal();
    }
    const wipe = wipeData === "if-unhealthy" ? troubled : wipeData;
    await service.restart({ wipeData: wipe });
    context.note(`${name} restarted${wipe ? " with its data wiped" : ""}`);
    return nothingToHeal();
  },
});

export const processMemoryCap = defineFault({
  name: "process.memory-cap",
  family: "process",
  summary:
    "kills the service when its memory exceeds megabytes; heal restores its own cap and restarts it if the cap killed it",
  params: faultParams({
    service: serviceName(),
    megabytes: integer(1, MAX_MEMORY_CAP_MB, "MB"),
  }),
  targets: serviceTarget,
  async inject(context, { service: name, megabytes }) {
    const { topology } = context;
    const service = serviceOf(topology, name);
    const ownCap = topology.topology.services.find((spec) => spec.name === name)?.memoryCapMb;
    let killedByCap = false;
    const unsubscribe = topology.onEvent((event) => {
      if (event.service === name && event.kind === "exited" && event.cause === "memory-cap") {
        killedByCap = true;
      }
    });
    service.setMemoryCap(megabytes);
    context.note(`${name} capped at ${megabytes} MB`);
    return healedBy(async () => {
      unsubscribe();
      service.setMemoryCap(ownCap);
      context.note(
        `${name} memory cap ${ownCap === undefined ? "lifted" : `back to ${ownCap} MB`}`,
      );
      if (killedByCap && service.state() === "exited") {
        await service.restart();
        context.note(`${name} restarted after the memory cap killed it`);
      }
    });
  },
});

export const PROCESS_FAULTS = [
  processKill,
  processPause,
  processRestart,
  processMemoryCap,
] as const;
