// The CI summary in Markdown: a verdict table and a ledger table with one column per profile,
// what did not hold, the report's path; text from outside (tenant and variant names, error
// text) shown as itself, never as markup or as an extra table cell.

import { beforeAll, describe, expect, it } from "vitest";
import { loadExperiment } from "../../harness/experiment/load.ts";
import type { Journal } from "../../harness/experiment/journal.ts";
import { runOn } from "../../harness/experiment/run-on.ts";
import { INVARIANT_NAMES } from "../../harness/invariants/types.ts";
import { CATEGORIES, type Counts } from "../../harness/ledger/ledger.ts";
import { escapeMarkdown, formatMarkdown } from "../../harness/report/markdown.ts";

/**
 * The cells of each table row as GitHub reads them: `|` separates cells unless a backslash
 * escapes it, and a backslash before any other ASCII punctuation stands for that character.
 */
function cellsOf(line: string): string[] {
  const cells: string[] = [];
  let current = "";
  for (let index = 1; index < line.length - 1; index++) {
    const character = line[index]!;
    if (character === "\\" && /[!-/:-@[-`{-~]/.test(line[index + 1] ?? "")) {
      current += line[++index];
    } else if (character === "|") {
      cells.push(current.trim());
      current = "";
    } else current += character;
  }
  cells.push(current.trim());
  return cells;
}

/** Each table of the summary as rows of cells, keyed by the header's first cell. */
function tablesOf(markdown: string): Map<string, string[][]> {
  const tables = new Map<string, string[][]>();
  let rows: string[][] | null = null;
  for (const line of markdown.split("\n")) {
    if (!line.startsWith("|")) {
      rows = null;
      continue;
    }
    const cells = cellsOf(line);
    if (rows === null) tables.set(cells[0]!, (rows = []));
    if (!cells.every((text) => text === "---")) rows.push(cells);
  }
  return tables;
}

const rowOf = (table: string[][] | undefined, label: string) =>
  table?.find((cells) => cells[0] === label)?.slice(1);

describe("formatMarkdown on runs of sink-outage on the simulator", () => {
  let journals: Journal[];
  beforeAll(async () => {
    const experiment = await loadExperiment("sink-outage");
    journals = [];
    for (const profile of ["legacy-2024", "hardened"])
      journals.push(await runOn("sim", experiment, { profile, seed: 1 }));
  });

  it("tabulates each invariant's status against the expectation, one column per profile", () => {
    const verdict = tablesOf(formatMarkdown(journals)).get("invariant")!;
    expect(verdict[0]).toEqual(["invariant", "legacy-2024", "hardened"]);
    expect(verdict.every((cells) => cells.length === 3)).toBe(true);
    expect(rowOf(verdict, "status")).toEqual(["completed", "completed"]);
    expect(rowOf(verdict, "no-silent-loss")).toEqual(["violated ✓", "held ✓"]);
    for (const name of INVARIANT_NAMES) expect(rowOf(verdict, name)).toBeDefined();
    expect(rowOf(verdict, "as expected")).toEqual(["yes", "yes"]);
  });

  it("shows every ledger category with its count, and the incident window's loss", () => {
    const ledger = tablesOf(formatMarkdown(journals)).get("ledger")!;
    const labels: Record<keyof Counts, string> = {
      produced: "produced",
      expected: "expected",
      delivered: "delivered",
      duplicated: "duplicated",
      declared: "declared dropped",
      lost: "lost silently",
      misdelivered: "misdelivered",
      unexpected: "unexpected",
      rejected: "rejected",
      indeterminate: "indeterminate",
      unconfigured: "unconfigured",
      deliveredWithoutJob: "delivered without job",
    };
    for (const category of CATEGORIES) {
      const shown = rowOf(ledger, labels[category])?.map((text) => text.split(" ")[0]);
      expect(shown, category).toEqual(
        journals.map((journal) => journal.verdict!.ledger[category].toLocaleString("en-US")),
      );
    }
    const [legacy] = journals;
    expect(legacy!.verdict!.ledger.lost).toBeGreaterThan(0);
    expect(rowOf(ledger, "lost silently")![0]).toMatch(/^[\d,]+ \([\d.]+% of expected\)$/);
    const window = legacy!.verdict!.incidentWindow!;
    expect(rowOf(ledger, "lost silently in incident window")![0]).toBe(
      `${window.ledger.lost.toLocaleString("en-US")} of ${window.ledger.expected.toLocaleString("en-US")} (${(100 * window.silentLossShare).toFixed(1)}%)`,
    );
  });

  it("lists each invariant not held with its summary, and the report's path when given", () => {
    const markdown = formatMarkdown(journals, { reportPath: "out/report.html" });
    const summary = journals[0]!.verdict!.invariants["no-silent-loss"]!.summary;
    expect(markdown).toContain(`- **legacy-2024**: no-silent-loss: ${escapeMarkdown(summary)}`);
    expect(markdown.match(/^- \*\*hardened\*\*/m)).toBeNull();
    expect(markdown).toContain("HTML report: out/report.html");
    expect(formatMarkdown(journals)).not.toContain("HTML report");
  });
});

describe("formatMarkdown on text from outside", () => {
  const hostile = "t|0`0*1_ <b>&amp; [x](y) ~z~ $1$ #";
  const ledger = Object.fromEntries(CATEGORIES.map((category) => [category, 5])) as Counts;
  const journal = {
    experiment: "hostile",
    description: "a description\nover two lines | with a pipe",
    profile: `variant|${hostile}`,
    flaws: [],
    status: "completed",
    deviated: false,
    asExpected: false,
    error: `broke on tenant ${hostile}\nstack line`,
    outcomes: [
      { invariant: "tenant-isolation", expected: "held", actual: "violated", matched: false },
    ],
    verdict: {
      invariants: {
        "tenant-isolation": {
          name: "tenant-isolation",
          status: "violated",
          summary: `tenant ${hostile} starved the others`,
          evidence: {},
        },
      },
      ledger,
      ledgerByTenant: { [hostile]: ledger },
      incidentWindow: null,
      figures: {
        produced: 5,
        acknowledged: 5,
        deliveredShare: 1,
        silentLossShare: 0,
        bufferHighWaterBytes: 0,
        bufferHighWaterBuffers: 0,
        bufferBoundBytes: 1,
        bufferBoundBuffers: 1,
        eventsPerSecond: 1,
      },
    },
    target: {
      name: "relay",
      file: "/t.yaml",
      variant: "x",
      ingress: "syslog",
      acknowledgement: "written to `the socket` | no error",
    },
  } as unknown as Journal;

  it("keeps a pipe or a backtick in a name inside its own cell, shown as written", () => {
    const markdown = formatMarkdown([journal]);
    const verdict = tablesOf(markdown).get("invariant")!;
    expect(verdict[0]).toEqual(["invariant", `variant|${hostile}`]);
    expect(verdict.every((cells) => cells.length === 2)).toBe(true);
    expect(rowOf(verdict, "tenant-isolation")).toEqual(["violated ✗ (expected held)"]);
    expect(rowOf(verdict, "as expected")).toEqual(["NO"]);
    expect(
      tablesOf(markdown)
        .get("ledger")!
        .every((cells) => cells.length === 2),
    ).toBe(true);
  });

  it("escapes every character that would start markup, and puts each item on one line", () => {
    const markdown = formatMarkdown([journal], { reportPath: "/tmp/a_b|c.html" });
    // Outside the tables too: no backtick, angle bracket, pipe... left unescaped.
    for (const line of markdown.split("\n").filter((text) => !text.startsWith("|")))
      expect(line.replace(/\\[!-/:-@[-`{-~]/g, ""), line).not.toMatch(/[`<>|[\]~&$_]/);
    expect(markdown).toContain(`tenant ${escapeMarkdown(hostile)} starved the others`);
    expect(markdown).toContain(`harness error: broke on tenant ${escapeMarkdown(hostile)}\n`);
    expect(markdown).not.toContain("stack line");
    expect(markdown).toContain("a description over two lines \\| with a pipe");
    expect(markdown).toContain(
      "- acknowledged (syslog ingress): written to \\`the socket\\` \\| no error",
    );
    expect(markdown).toContain("HTML report: /tmp/a\\_b\\|c.html");
  });
});
