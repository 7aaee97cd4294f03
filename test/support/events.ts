import { encodeEvent, makePayload } from "../../pipeline/core/event.ts";

/** NDJSON of `count` events of one stream from `from`, with valid payloads. */
export function batch(
  tenant: string,
  dataset: string,
  from: number,
  count: number,
  producer = "p0",
  size = 32,
): string {
  let body = "";
  for (let seq = from; seq < from + count; seq++) {
    const id = { tenant, dataset, producer, seq };
    body += encodeEvent({ ...id, payload: makePayload(id, size) }) + "\n";
  }
  return body;
}

export const JOB_T1 = { tenant: "t1", dataset: "http", destination: "sink-0/t1.http" };
export const JOB_T2 = { tenant: "t2", dataset: "http", destination: "sink-0/t2.http" };
export const TWO_JOBS = { jobs: [JOB_T1, JOB_T2], datasets: ["http"] };
