// Listen and upstream addresses in Go's "host:port" form, and binding listeners for them.
// A loopback name binds both loopbacks (127.0.0.1 and, when it is free, ::1) on one port, since
// clients resolve `localhost` to either (docs/toxiproxy.md).
import type { AddressInfo, Server } from "node:net";
import { bindFailure } from "./errors.ts";

export interface HostPort {
  host: string;
  port: number;
}

/** Splits "host:port", "[v6]:port" or ":port" like Go's net.SplitHostPort; throws when it can't. */
export function splitHostPort(address: string): HostPort {
  let host: string;
  let portText: string;
  if (address.startsWith("[")) {
    const close = address.indexOf("]");
    if (close < 0) throw new Error(`address ${address}: missing ']' in address`);
    host = address.slice(1, close);
    const rest = address.slice(close + 1);
    if (!rest.startsWith(":")) throw new Error(`address ${address}: missing port in address`);
    portText = rest.slice(1);
  } else {
    const colon = address.lastIndexOf(":");
    if (colon < 0) throw new Error(`address ${address}: missing port in address`);
    host = address.slice(0, colon);
    portText = address.slice(colon + 1);
    if (host.includes(":")) throw new Error(`address ${address}: too many colons in address`);
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65_535) {
    throw new Error(`address ${address}: invalid port`);
  }
  return { host, port: Number(portText) };
}

export function joinHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

export interface BoundServers<S extends Server> {
  servers: S[];
  /** The address bound, as Go reports it: `127.0.0.1:0` comes back with the real port. */
  address: string;
  port: number;
}

/**
 * Binds servers made by `make` for a listen address. Fails with the 500 ApiError Toxiproxy gives
 * (`listen tcp 127.0.0.1:8474: bind: address already in use`); the second loopback is optional.
 */
export async function listenOn<S extends Server>(
  address: string,
  make: () => S,
): Promise<BoundServers<S>> {
  let requested: HostPort;
  try {
    requested = splitHostPort(address);
  } catch (error) {
    throw bindFailure(`listen tcp: ${(error as Error).message}`);
  }
  const [primaryHost, ...extraHosts] = hostsToBind(requested.host);
  const primary = make();
  try {
    await listen(primary, requested.port, primaryHost);
  } catch (error) {
    const shown = joinHostPort(primaryHost ?? "", requested.port);
    throw bindFailure(`listen tcp ${shown}: ${describeBindError(error)}`);
  }
  const bound = primary.address() as AddressInfo;
  const servers = [primary];
  for (const host of extraHosts) {
    const extra = make();
    try {
      await listen(extra, bound.port, host);
      servers.push(extra);
    } catch {
      extra.close();
    }
  }
  return { servers, address: joinHostPort(bound.address, bound.port), port: bound.port };
}

/** Closes servers, resolving when each has stopped listening and its connections are gone. */
export function closeServers(servers: readonly Server[]): Promise<void> {
  return Promise.all(
    servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
  ).then(() => undefined);
}

function hostsToBind(host: string): (string | undefined)[] {
  if (host === "localhost" || host === "127.0.0.1") return ["127.0.0.1", "::1"];
  // Go's ":port" means every interface.
  if (host === "") return [undefined];
  return [host];
}

function listen(server: Server, port: number, host: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (error: Error): void => reject(error);
    server.once("error", fail);
    server.listen({ port, host }, () => {
      server.off("error", fail);
      // Accept errors (e.g. EMFILE) must not crash the process; the listener keeps going.
      server.on("error", () => {});
      resolve();
    });
  });
}

const GO_ERRNO_WORDS: Readonly<Record<string, string>> = {
  EADDRINUSE: "bind: address already in use",
  EACCES: "bind: permission denied",
  EADDRNOTAVAIL: "bind: cannot assign requested address",
  ENOTFOUND: "no such host",
  EAI_AGAIN: "no such host",
};

function describeBindError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return (code !== undefined ? GO_ERRNO_WORDS[code] : undefined) ?? (error as Error).message;
}
