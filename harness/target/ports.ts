// Ports for software that will not report a port 0 back (docs/targets.md, "Ports"): Spillway binds
// every port a target needs on loopback at once, notes the numbers the kernel gave, and releases
// them just before the services start. They are kept for the whole run, across restarts.

import { createServer, type Server } from "node:net";

const LOOPBACK = "127.0.0.1";
/** More ports than any target needs; a limit rather than trusting the file. */
export const PORTS_MAX = 256;

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      if (address === null || typeof address === "string") reject(new Error("no port"));
      else resolve(address.port);
    });
  });
}

/** Ports bound and held until each is released, just before its service starts to listen. */
export interface PortReservation {
  readonly ports: readonly number[];
  /** Frees one port (its service is about to bind it); a port not held is ignored. */
  release(port: number): Promise<void>;
  releaseAll(): Promise<void>;
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * `count` distinct loopback ports, each held by a listening socket until released: while they
 * are held, nothing else (a fault proxy listening on port 0, a client's ephemeral port) can be
 * given one of them, so a service that binds its port just after the release finds it free.
 */
export async function reservePorts(count: number): Promise<PortReservation> {
  if (!Number.isInteger(count) || count < 0 || count > PORTS_MAX)
    throw new RangeError(`asked for ${count} ports, expected 0 to ${PORTS_MAX}`);
  const servers = Array.from({ length: count }, () => createServer());
  let ports: number[];
  try {
    ports = await Promise.all(servers.map(listen));
  } catch (error) {
    await Promise.all(servers.map(close));
    throw error;
  }
  const held = new Map(ports.map((port, index) => [port, servers[index]!]));
  return {
    ports,
    async release(port) {
      const server = held.get(port);
      if (server === undefined) return;
      held.delete(port);
      await close(server);
    },
    async releaseAll() {
      const servers = [...held.values()];
      held.clear();
      await Promise.all(servers.map(close));
    },
  };
}

/** `count` distinct free loopback ports (free when this returns; the caller binds them soon). */
export async function allocatePorts(count: number): Promise<number[]> {
  const reservation = await reservePorts(count);
  await reservation.releaseAll();
  return [...reservation.ports];
}
