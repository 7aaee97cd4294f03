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

/** `count` distinct free loopback ports (free when this returns; the caller binds them soon). */
export async function allocatePorts(count: number): Promise<number[]> {
  if (!Number.isInteger(count) || count < 0 || count > PORTS_MAX)
    throw new RangeError(`asked for ${count} ports, expected 0 to ${PORTS_MAX}`);
  const servers = Array.from({ length: count }, () => createServer());
  try {
    return await Promise.all(servers.map(listen));
  } finally {
    await Promise.all(
      servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
    );
  }
}
