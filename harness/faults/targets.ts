// Finding what a fault acts on in a running topology, and calling a service's control endpoint,
// with errors that say what was asked for and what there is.

import type { Component } from "../../pipeline/core/flaws.ts";
import { requestJson } from "../http/json-client.ts";
import { serviceRunning, type RunningTopology, type ServiceHandle } from "../runtime/runtime.ts";
import type { FaultContext, LinkControl } from "./fault.ts";

/** Most time a control request (sink /fault, config /jobs...) may take. */
const CONTROL_TIMEOUT_MS = 10_000;

/** The service named `name`, which must run `component` when one is given. */
export function serviceOf(
  topology: RunningTopology,
  name: string,
  component?: Component,
): ServiceHandle {
  const service = topology.service(name);
  if (component !== undefined && service.component !== component) {
    throw new Error(`service "${name}" is a ${service.component}, expected a ${component}`);
  }
  return service;
}

/** The first service running `component`, e.g. the config service. */
export function firstOf(topology: RunningTopology, component: Component): ServiceHandle {
  return serviceRunning(topology.services, component);
}

/** The fault proxies, which every network fault needs. */
export function requireLinks(context: FaultContext, kind: string): LinkControl {
  if (context.links === null) {
    throw new Error(
      `${kind} needs a fault proxy on every link, and this topology runs with direct links; start it with links: toxiproxyLinks()`,
    );
  }
  return context.links;
}

/** The proxied links into `service` (e.g. `pusher->sink-0` for `sink-0`). */
export function linksInto(
  topology: RunningTopology,
  links: LinkControl,
  service: string,
): string[] {
  const proxied = new Set(links.names());
  return topology.topology.links
    .filter((link) => link.to === service && proxied.has(link.name))
    .map((link) => link.name);
}

/** Sends a JSON request to a service's control endpoint; throws on anything but 2xx. */
export async function callService(
  topology: RunningTopology,
  service: ServiceHandle,
  method: "POST" | "PATCH",
  path: string,
  body: unknown,
): Promise<unknown> {
  return requestJson(topology.net, method, `${service.url()}${path}`, {
    body,
    timeoutMs: CONTROL_TIMEOUT_MS,
  });
}
