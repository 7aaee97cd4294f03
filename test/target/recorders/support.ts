// Shared by the recorder tests: each recorder runs as the harness runs it, a child process under a
// ProcessService launched by recorderLaunch, and its records are read by the ledger's own
// collector. Every recorder started is killed, and the temp root removed, after the file.

import { mkdirSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll } from "vitest";
import { collectDeliveries } from "../../../harness/ledger/collect.ts";
import type { LedgerDelivery } from "../../../harness/ledger/ledger.ts";
import { EventLog } from "../../../harness/runtime/events.ts";
import { freeLoopbackPort } from "../../../harness/runtime/container/networking.ts";
import {
  DEFAULT_PROCESS_LIMITS,
  ProcessService,
} from "../../../harness/runtime/process/service-process.ts";
import { ServiceLog } from "../../../harness/runtime/process/service-log.ts";
import type { Watchdog } from "../../../harness/runtime/process/watchdog.ts";
import { recorderLaunch, type RecorderSpec } from "../../../harness/target/recorders/launch.ts";
import { encodeToken } from "../../../harness/target/identity.ts";
import { streamKey, type EventId } from "../../../pipeline/core/event.ts";
import { createRealNet } from "../../../pipeline/host/real-seam.ts";
import { useTempDir } from "../../support/temp-dir.ts";

export { freeLoopbackPort };

/** The recorders exit with the test worker (SPILLWAY_PARENT_PID); no watchdog process needed. */
const noWatchdog: Watchdog = {
  guard() {},
  release() {},
  guardGroup() {},
  releaseGroup() {},
  close: async () => {},
};

/** Long enough for a loaded machine; a test never passes or fails on it. */
const WAIT_MS = 15_000;

export interface RunningRecorder {
  service: ProcessService;
  url(): string;
  /** Every record, read with the ledger's collector (harness/ledger/collect.ts). */
  deliveries(): Promise<LedgerDelivery[]>;
}

export function useRecorders(): {
  tempRoot: string;
  start(spec: RecorderSpec, name?: string): Promise<RunningRecorder>;
} {
  const tempRoot = useTempDir("spillway-recorders-");
  const net = createRealNet();
  const started: ProcessService[] = [];
  const logs: ServiceLog[] = [];
  afterAll(async () => {
    await Promise.all(started.map((service) => service.kill("SIGKILL")));
    await Promise.all(logs.map((log) => log.close()));
    net.close();
  });
  let count = 0;
  return {
    tempRoot,
    async start(spec, name = `recorder-${++count}`) {
      const dataDir = path.join(tempRoot, name);
      mkdirSync(dataDir, { recursive: true });
      const log = new ServiceLog(path.join(tempRoot, `${name}.recorder-log`), {
        lines: 200,
        lineChars: 2_000,
      });
      logs.push(log);
      const service = new ProcessService(
        // The process runtime's component kinds name what a service is in messages only.
        { name, component: "sink" },
        {
          launch: recorderLaunch(spec, { dataDir }),
          log,
          events: new EventLog(),
          watchdog: noWatchdog,
          limits: { ...DEFAULT_PROCESS_LIMITS, readyTimeoutMs: 15_000, stopGraceMs: 3_000 },
        },
      );
      started.push(service);
      await service.start();
      return {
        service,
        url: () => service.url(),
        deliveries: () => collectDeliveries(net, [{ name, component: "sink", url: service.url() }]),
      };
    },
  };
}

/** `count` events of one stream, seq 1..count, with their tokens. */
export function events(count: number, stream = { tenant: "t1", dataset: "logs", producer: "p1" }) {
  return Array.from({ length: count }, (_, index) => ({ ...stream, seq: index + 1 }));
}

export function token(id: EventId, payloadChars = 24): string {
  return encodeToken(id, payloadChars);
}

/** How many times each event was recorded, by `stream/seq`, whole and corrupt apart. */
export function tally(deliveries: readonly LedgerDelivery[]): {
  whole: Map<string, number>;
  corrupt: Map<string, number>;
} {
  const count = (into: Map<string, number>, streams: LedgerDelivery["streams"]) => {
    for (const stream of streams) {
      for (const [from, to] of stream.ranges) {
        for (let seq = from; seq <= to; seq++) {
          const key = `${streamKey(stream)}/${seq}`;
          into.set(key, (into.get(key) ?? 0) + 1);
        }
      }
    }
  };
  const whole = new Map<string, number>();
  const corrupt = new Map<string, number>();
  for (const delivery of deliveries) {
    count(whole, delivery.streams);
    count(corrupt, delivery.corrupt ?? []);
  }
  return { whole, corrupt };
}

/** Each of `ids` exactly once, as `tally` keys them. */
export function once(ids: readonly EventId[]): Map<string, number> {
  return new Map(ids.map((id) => [`${streamKey(id)}/${id.seq}`, 1]));
}

/** `read()` once `done` holds for it, or its last value when the wait runs out (the test's
 * assertion then says what is missing). */
export async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await sleep(25);
  }
}

/** Deliveries once `expected` whole and corrupt events (counting repeats) are recorded. */
export function deliveriesCounting(
  recorder: RunningRecorder,
  expected: { whole: number; corrupt?: number },
): Promise<LedgerDelivery[]> {
  const total = (map: Map<string, number>) => [...map.values()].reduce((a, b) => a + b, 0);
  return eventually(recorder.deliveries, (deliveries) => {
    const { whole, corrupt } = tally(deliveries);
    return total(whole) >= expected.whole && total(corrupt) >= (expected.corrupt ?? 0);
  });
}
