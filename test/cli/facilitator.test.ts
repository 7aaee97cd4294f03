// The facilitator's gate of `spillway run --step`: a prompt naming the next fault, a go by Enter
// or SIGUSR1 that only answers a prompt on screen, and `--step` refused where it could never go on.

import { EventEmitter } from "node:events";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { UsageError } from "../../harness/cli/exit.ts";
import {
  checkStepMode,
  openFacilitator,
  type FacilitatorIo,
} from "../../harness/cli/facilitator.ts";
import type { MethodStep } from "../../harness/experiment/definition.ts";
import { AbortTripped } from "../../harness/experiment/run-state.ts";

function io() {
  const input = Object.assign(new PassThrough(), { isTTY: true });
  const signals = new EventEmitter();
  let output = "";
  const facilitatorIo: FacilitatorIo = {
    input,
    output: { write: (text: string) => (output += text) },
    signals: signals as unknown as FacilitatorIo["signals"],
    pid: 4242,
  };
  return { facilitatorIo, input, signals, output: () => output };
}

const step: MethodStep = {
  at: 2_000,
  for: 3_000,
  fault: { kind: "process.kill", service: "buffer", signal: "SIGKILL" },
  note: "the buffer dies",
};

/** Whether `promise` settled by the next turn of the event loop. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe("the facilitator's gate", () => {
  it("prints the next fault with its time, target and heal, and goes on at Enter, not before", async () => {
    const { facilitatorIo, input, output } = io();
    const facilitator = openFacilitator("enter", 1_000, facilitatorIo);
    try {
      input.write("\n"); // pressed before any prompt: ignored
      await new Promise((resolve) => setImmediate(resolve));
      const go = facilitator.beforeFault(
        { step, index: 0, count: 2 },
        new AbortController().signal,
      );
      expect(output()).toContain("next: fault 1 of 2, +2.0 s (3.0 s from the start)  process.kill");
      expect(output()).toContain("target: buffer; heals at +5.0 s (after 3.0 s)");
      expect(output()).toContain("press Enter to inject, Ctrl-C to stop (or kill -USR1 4242");
      expect(await settled(go)).toBe(false);
      input.write("\n");
      expect(await settled(go)).toBe(true);
    } finally {
      facilitator.close();
    }
  });

  it("goes on at SIGUSR1, ignores one with no prompt, and stops listening, saying why, when the run halts or it is closed", async () => {
    const { facilitatorIo, signals, output } = io();
    const facilitator = openFacilitator("signal", 1_000, facilitatorIo);
    signals.emit("SIGUSR1");
    expect(output()).toContain("SIGUSR1 with no fault waiting: ignored");
    const go = facilitator.beforeFault({ step, index: 1, count: 2 }, new AbortController().signal);
    expect(output()).toContain("kill -USR1 4242 to inject");
    expect(await settled(go)).toBe(false);
    signals.emit("SIGUSR1");
    expect(await settled(go)).toBe(true);

    const halt = new AbortController();
    const abandoned = facilitator.beforeFault({ step, index: 1, count: 2 }, halt.signal);
    halt.abort(new AbortTripped());
    expect(output()).toContain(
      "spillway: an abort condition tripped: fault 2 of 2 not injected, the run stops",
    );
    signals.emit("SIGUSR1");
    expect(await settled(abandoned)).toBe(false);
    // Halted before the prompt: none is printed, and no go is awaited.
    const prompts = output().split("next: fault").length;
    const unasked = facilitator.beforeFault({ step, index: 1, count: 2 }, halt.signal);
    expect(output().split("next: fault").length).toBe(prompts);
    signals.emit("SIGUSR1");
    expect(await settled(unasked)).toBe(false);
    facilitator.close();
    expect(signals.listenerCount("SIGUSR1")).toBe(0);
  });

  it("refuses --step (Enter) without a terminal on stdin, naming --step signal", () => {
    expect(() => checkStepMode("enter", { isTTY: false })).toThrow(UsageError);
    expect(() => checkStepMode("enter", {})).toThrow(/--step signal/);
    expect(() => checkStepMode("signal", {})).not.toThrow();
    expect(() => checkStepMode("enter", { isTTY: true })).not.toThrow();
  });
});
