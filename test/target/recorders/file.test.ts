// The file recorder as the harness runs it: a file tailed line by line from its start, through
// rename rotation (with the writer still on the old file a while) and copytruncate, a line written
// in two parts, and a restart that resumes where it was, each event recorded exactly once.

import { closeSync, copyFileSync, openSync, renameSync, truncateSync, writeSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { EventId } from "../../../pipeline/core/event.ts";
import {
  deliveriesCounting,
  events,
  once,
  tally,
  token,
  useRecorders,
  type RunningRecorder,
} from "./support.ts";

const recorders = useRecorders();

function line(id: EventId): string {
  return `2024-11-14T14:00:00Z relay-2 app: ${token(id)}\n`;
}

function write(fd: number, ids: readonly EventId[]): void {
  writeSync(fd, ids.map(line).join(""));
}

async function tailing(name: string): Promise<{ recorder: RunningRecorder; file: string }> {
  const file = path.join(recorders.tempRoot, `${name}.log`);
  return { recorder: await recorders.start({ kind: "file", path: file }, name), file };
}

async function expectRecordedOnce(recorder: RunningRecorder, ids: readonly EventId[]) {
  const { whole, corrupt } = tally(await deliveriesCounting(recorder, { whole: ids.length }));
  expect(whole).toEqual(once(ids));
  expect(corrupt.size).toBe(0);
}

describe("file recorder", () => {
  it("survives rename rotation: the old file is read on while the writer still writes to it", async () => {
    const { recorder, file } = await tailing("rename");
    const ids = events(60, { tenant: "t1", dataset: "file", producer: "rename" });
    const old = openSync(file, "a");
    try {
      write(old, ids.slice(0, 20));
      // A file rotated away before the tailer ever opened it is out of its sight: rotate once it
      // reads this one, as a pipeline's file is rotated long after the recorder started.
      await deliveriesCounting(recorder, { whole: 20 });
      renameSync(file, `${file}.1`);
      // The writer has not reopened yet: these land in the rotated file.
      write(old, ids.slice(20, 30));
      const fresh = openSync(file, "a");
      try {
        write(fresh, ids.slice(30, 50));
        // The tailer has seen the new file; a late write to the old one is still read.
        await deliveriesCounting(recorder, { whole: 50 });
        write(old, ids.slice(50, 55));
        write(fresh, ids.slice(55));
      } finally {
        closeSync(fresh);
      }
    } finally {
      closeSync(old);
    }
    await expectRecordedOnce(recorder, ids);
  });

  it("survives copytruncate: the file shrinks and is read again from its start", async () => {
    const { recorder, file } = await tailing("copytruncate");
    const ids = events(40, { tenant: "t1", dataset: "file", producer: "copytruncate" });
    const writer = openSync(file, "a");
    try {
      write(writer, ids.slice(0, 25));
      // logrotate copies what the tailer has read (lines written after the read and before the
      // copy are in the copy only, out of any tailer's sight), then truncates.
      await deliveriesCounting(recorder, { whole: 25 });
      copyFileSync(file, `${file}.1`);
      truncateSync(file, 0);
      write(writer, ids.slice(25));
    } finally {
      closeSync(writer);
    }
    await expectRecordedOnce(recorder, ids);
  });

  it("records a line written in two parts once, whole, when its LF arrives", async () => {
    const { recorder, file } = await tailing("partial");
    const [first, split] = events(2, { tenant: "t1", dataset: "file", producer: "partial" }) as [
      EventId,
      EventId,
    ];
    const writer = openSync(file, "a");
    try {
      const splitLine = line(split);
      writeSync(writer, line(first) + splitLine.slice(0, 40));
      // Once the first line is recorded, the half line after it has been read too.
      await deliveriesCounting(recorder, { whole: 1 });
      writeSync(writer, splitLine.slice(40));
    } finally {
      closeSync(writer);
    }

    await expectRecordedOnce(recorder, [first, split]);
  });

  it("after a restart resumes after the last line it recorded, not from the file's start", async () => {
    const { recorder, file } = await tailing("restart");
    const ids = events(30, { tenant: "t1", dataset: "file", producer: "restart" });
    const writer = openSync(file, "a");
    try {
      write(writer, ids.slice(0, 15));
      await deliveriesCounting(recorder, { whole: 15 });
      await recorder.service.kill("SIGKILL");
      write(writer, ids.slice(15));
      await recorder.service.start();
    } finally {
      closeSync(writer);
    }
    await expectRecordedOnce(recorder, ids);
  });
});
