// Composing one batch: it comes from one producer (round robin over the edge producers); each
// event's tenant is drawn from the Zipf sampler and its dataset uniformly; each stream in the
// batch claims a contiguous run of seqs, so a batch settles as one seq range per stream.

import { encodeGeneratedEvent } from "../../pipeline/core/event.ts";
import type { Rng } from "../../pipeline/core/seam.ts";
import { producerName, type WorkloadOptions } from "./options.ts";
import type { StreamRecord, WorkloadRecord } from "./record.ts";
import type { TenantSampler } from "./tenants.ts";

export interface BatchSlice {
  stream: StreamRecord;
  seqFrom: number;
  seqTo: number;
}

export interface Batch {
  producer: string;
  eventCount: number;
  /** NDJSON, one encoded event per line (encoded on first read). */
  readonly body: string;
  slices: BatchSlice[];
}

interface StreamInBatch {
  count: number;
  stream: StreamRecord | undefined;
  nextSeq: number;
}

export class BatchBuilder {
  private readonly options: WorkloadOptions;
  private readonly sampler: TenantSampler;
  private readonly record: WorkloadRecord;
  private readonly rng: Rng;
  private readonly producers: string[];
  private nextProducer = 0;
  /** Stream records by (producer, tenant, dataset) index, so that no key is built per event. */
  private readonly streams = new Map<number, StreamRecord>();

  constructor(options: WorkloadOptions, sampler: TenantSampler, record: WorkloadRecord, rng: Rng) {
    this.options = options;
    this.sampler = sampler;
    this.record = record;
    this.rng = rng;
    this.producers = Array.from({ length: options.producers }, (_, index) => producerName(index));
  }

  /** Draws `eventCount` events produced at `at` and claims their seqs. */
  build(eventCount: number, at: number): Batch {
    const datasetCount = this.options.datasets.length;
    const producerIndex = this.nextProducer;
    this.nextProducer = (this.nextProducer + 1) % this.producers.length;

    const drawn = new Int32Array(eventCount);
    const perStream = new Map<number, StreamInBatch>();
    for (let i = 0; i < eventCount; i++) {
      const tenant = this.sampler.draw(this.rng);
      const dataset = datasetCount === 1 ? 0 : Math.floor(this.rng.next() * datasetCount);
      const index = tenant * datasetCount + dataset;
      drawn[i] = index;
      const entry = perStream.get(index);
      if (entry === undefined) perStream.set(index, { count: 1, stream: undefined, nextSeq: 0 });
      else entry.count++;
    }

    const slices: BatchSlice[] = [];
    for (const [index, entry] of perStream) {
      const stream = this.streamAt(producerIndex, index);
      const seqFrom = stream.produce(entry.count, at, this.options.productionRunMs);
      slices.push({ stream, seqFrom, seqTo: seqFrom + entry.count - 1 });
      entry.stream = stream;
      entry.nextSeq = seqFrom;
    }

    // The NDJSON body is encoded on first use, once: an ingress that sends the events another
    // way (syslog, Redis Streams) never asks for it, and encoding is most of a batch's cost.
    const payloadBytes = this.options.payloadBytes;
    let body: string | undefined;
    const encode = (): string => {
      let text = "";
      for (let i = 0; i < eventCount; i++) {
        const entry = perStream.get(drawn[i] as number) as StreamInBatch;
        const { tenant, dataset, producer } = entry.stream as StreamRecord;
        const id = { tenant, dataset, producer, seq: entry.nextSeq++ };
        text += encodeGeneratedEvent(id, payloadBytes) + "\n";
      }
      return text;
    };
    return {
      producer: this.producers[producerIndex] as string,
      eventCount,
      slices,
      get body() {
        return (body ??= encode());
      },
    };
  }

  private streamAt(producerIndex: number, tenantDataset: number): StreamRecord {
    const datasetCount = this.options.datasets.length;
    const key = producerIndex * this.sampler.names.length * datasetCount + tenantDataset;
    let stream = this.streams.get(key);
    if (stream === undefined) {
      stream = this.record.streamFor(
        this.sampler.names[Math.floor(tenantDataset / datasetCount)] as string,
        this.options.datasets[tenantDataset % datasetCount] as string,
        this.producers[producerIndex] as string,
      );
      this.streams.set(key, stream);
    }
    return stream;
  }
}
