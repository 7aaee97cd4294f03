// Sink faults (docs/architecture.md §4): the customer's destination slow, erroring (5xx),
// throttling (429) or down. The first three are switched on the sink's /fault endpoint and healed
// by switching it back to "none". Down takes every proxied link into the sink down when the
// topology runs with fault proxies (the sink keeps what it received, as a real destination would),
// and otherwise kills the sink's process; heal brings the links up or restarts the sink.

import type { SinkFault } from "../../pipeline/sink/sink-fault.ts";
import { defineFault, healedBy } from "./define.ts";
import type { FaultContext } from "./fault.ts";
import { faultParams, integer, MAX_FAULT_MS, serviceName } from "./params.ts";
import { callService, linksInto, serviceOf } from "./targets.ts";

const sinkTarget = (params: { sink: string }) => ({ services: [params.sink] });

async function setSinkFault(context: FaultContext, sink: string, fault: SinkFault) {
  const service = serviceOf(context.topology, sink, "sink");
  await callService(context.topology, service, "POST", "/fault", fault);
  context.note(`${sink} fault set: ${JSON.stringify(fault)}`);
  return healedBy(async () => {
    await callService(context.topology, service, "POST", "/fault", { mode: "none" });
    context.note(`${sink} fault cleared`);
  });
}

export const sinkSlow = defineFault({
  name: "sink.slow",
  family: "sink",
  summary: "the sink waits delayMs before answering each push",
  params: faultParams({ sink: serviceName(), delayMs: integer(0, MAX_FAULT_MS, "ms") }),
  targets: sinkTarget,
  inject: (context, { sink, delayMs }) => setSinkFault(context, sink, { mode: "slow", delayMs }),
});

export const sinkError = defineFault({
  name: "sink.error",
  family: "sink",
  summary: "the sink answers every push with status (5xx) and keeps nothing",
  params: faultParams({ sink: serviceName(), status: integer(500, 599).default(503) }),
  targets: sinkTarget,
  inject: (context, { sink, status }) => setSinkFault(context, sink, { mode: "error", status }),
});

export const sinkThrottle = defineFault({
  name: "sink.throttle",
  family: "sink",
  summary: "the sink answers every push with 429 and Retry-After of retryAfterMs",
  params: faultParams({ sink: serviceName(), retryAfterMs: integer(0, MAX_FAULT_MS, "ms") }),
  targets: sinkTarget,
  inject: (context, { sink, retryAfterMs }) =>
    setSinkFault(context, sink, { mode: "throttle", retryAfterMs }),
});

export const sinkDown = defineFault({
  name: "sink.down",
  family: "sink",
  summary: "the sink is unreachable: its incoming links down when proxied, else its process killed",
  params: faultParams({ sink: serviceName() }),
  targets: sinkTarget,
  async inject(context, { sink }) {
    const service = serviceOf(context.topology, sink, "sink");
    const links = context.links;
    const proxied = links === null ? [] : linksInto(context.topology, links, sink);
    if (links !== null && proxied.length > 0) {
      const down: string[] = [];
      const bringUp = async (): Promise<void> => {
        for (const link of down) await links.setEnabled(link, true);
      };
      try {
        for (const link of proxied) {
          await links.setEnabled(link, false);
          down.push(link);
        }
      } catch (error) {
        await bringUp().catch(() => {});
        throw error;
      }
      context.note(`${sink} down: ${proxied.join(", ")} down`);
      return healedBy(async () => {
        await bringUp();
        context.note(`${sink} up: ${proxied.join(", ")} up`);
      });
    }
    await service.kill("SIGKILL");
    context.note(`${sink} down: killed (no proxied link into it)`);
    return healedBy(async () => {
      if (service.state() !== "exited") return;
      await service.restart();
      context.note(`${sink} up: restarted`);
    });
  },
});

export const SINK_FAULTS = [sinkSlow, sinkError, sinkThrottle, sinkDown] as const;
