// The report's tables (docs/reports.md): the overview, the ledger with every category, loss per
// tenant, each invariant with its evidence, and the experiment's steps and timings. They need
// only the verdict and the steps, so older journals (without series) still show them.

import { formatAbort } from "../../experiment/abort.ts";
import type { Journal } from "../../experiment/journal.ts";
import { INVARIANT_NAMES } from "../../invariants/types.ts";
import { CATEGORIES, type Counts } from "../../ledger/ledger.ts";
import { count, percent } from "../table.ts";
import { escapeHtml } from "./escape.ts";
import { faultLabel } from "./time-charts.ts";

/** Tenants listed in the loss table at most (most loss first). */
export const TENANT_ROWS_MAX = 30;
/** Evidence shown per invariant at most; a longer one is cut with a note. */
export const EVIDENCE_CHARS_MAX = 20_000;

const seconds = (ms: number) => `${(ms / 1_000).toFixed(1)} s`;

/** A table of cells already HTML (escape text from a journal first). */
export function table(head: string[], rows: string[][], className = ""): string {
  const header = head.map((cell) => `<th>${cell}</th>`).join("");
  const body = rows.map((row) => `<tr>${row.map((cell) => `<td>${cell}</td>`).join("")}</tr>`);
  return `<div class="scroll"><table class="${className}"><thead><tr>${header}</tr></thead><tbody>${body.join("")}</tbody></table></div>`;
}

export const profileLabel = (journal: Journal) =>
  escapeHtml(journal.target?.variant ?? journal.profile);

export function overviewTable(journals: Journal[]): string {
  const row = (label: string, value: (journal: Journal) => string) => [
    label,
    ...journals.map(value),
  ];
  const figure = (
    journal: Journal,
    text: (figures: NonNullable<Journal["verdict"]>["figures"]) => string,
  ) => (journal.verdict === null ? "-" : text(journal.verdict.figures));
  return table(
    ["", ...journals.map(profileLabel)],
    [
      row("status", (journal) =>
        escapeHtml(
          journal.status +
            (journal.deviated ? " (deviated)" : "") +
            (journal.abort === undefined ? "" : ` (${formatAbort(journal.abort)})`),
        ),
      ),
      row("as expected", (journal) =>
        journal.asExpected ? "yes" : '<strong class="bad">no</strong>',
      ),
      row("runtime", (journal) => escapeHtml(journal.target?.name ?? journal.runtime)),
      row("seed", (journal) => String(journal.seed)),
      row("duration", (journal) => seconds(journal.durationMs)),
      row("produced", (journal) => figure(journal, (figures) => count(figures.produced))),
      row("delivered", (journal) =>
        figure(journal, (figures) => percent(figures.deliveredShare) + " of expected"),
      ),
      row("lost silently", (journal) =>
        figure(journal, (figures) => percent(figures.silentLossShare) + " of expected"),
      ),
      row("error", (journal) =>
        journal.error === undefined ? "" : `<span class="bad">${escapeHtml(journal.error)}</span>`,
      ),
    ],
    "overview",
  );
}

export function ledgerTable(journals: Journal[]): string {
  return table(
    ["category", ...journals.map(profileLabel)],
    CATEGORIES.map((category) => [
      category,
      ...journals.map((journal) =>
        journal.verdict === null ? "-" : count(journal.verdict.ledger[category]),
      ),
    ]),
    "numbers",
  );
}

/** Tenants with loss or declared drops, most loss first. */
export function tenantLossTable(journal: Journal): string {
  const tenants = Object.entries(journal.verdict?.ledgerByTenant ?? {})
    .filter(([, counts]) => counts.lost > 0 || counts.declared > 0)
    .sort(([, a], [, b]) => b.lost - a.lost || b.declared - a.declared);
  if (tenants.length === 0)
    return '<p class="note">No tenant lost or had events declared dropped.</p>';
  const share = (counts: Counts) =>
    counts.expected === 0 ? "-" : percent(counts.lost / counts.expected);
  const shown = tenants.slice(0, TENANT_ROWS_MAX);
  const more =
    tenants.length > shown.length
      ? `<p class="note">${tenants.length - shown.length} more tenants not listed.</p>`
      : "";
  return (
    table(
      ["tenant", "expected", "delivered", "declared", "lost", "lost share"],
      shown.map(([tenant, counts]) => [
        escapeHtml(tenant),
        count(counts.expected),
        count(counts.delivered),
        count(counts.declared),
        count(counts.lost),
        share(counts),
      ]),
      "numbers",
    ) + more
  );
}

export function evidenceText(evidence: unknown): string {
  const text = JSON.stringify(evidence, null, 2) ?? "null";
  if (text.length <= EVIDENCE_CHARS_MAX) return escapeHtml(text);
  return `${escapeHtml(text.slice(0, EVIDENCE_CHARS_MAX))}\n… (${count(text.length - EVIDENCE_CHARS_MAX)} more characters in the journal)`;
}

export function invariantList(journal: Journal): string {
  if (journal.verdict === null)
    return '<p class="note">No verdict: the run did not get that far.</p>';
  const items = INVARIANT_NAMES.flatMap((name) => {
    const result = journal.verdict?.invariants[name];
    if (result === undefined) return [];
    const outcome = journal.outcomes.find((entry) => entry.invariant === name);
    const expectation =
      outcome === undefined
        ? ""
        : outcome.matched
          ? ` <span class="ok">(as expected)</span>`
          : ` <span class="bad">(expected ${escapeHtml(outcome.expected)})</span>`;
    return [
      `<details class="invariant ${escapeHtml(result.status)}"><summary><span class="status">${escapeHtml(result.status)}</span> <strong>${escapeHtml(name)}</strong>${expectation}: ${escapeHtml(result.summary)}</summary><pre>${evidenceText(result.evidence)}</pre></details>`,
    ];
  });
  return items.join("\n");
}

export function stepsTable(journal: Journal): string {
  const steps = table(
    ["phase", "step", "start", "end", "took", "ok"],
    journal.steps.map((step) => [
      escapeHtml(step.phase),
      escapeHtml(step.name) +
        (step.detail === undefined ? "" : `<br><small>${escapeHtml(step.detail)}</small>`),
      seconds(step.startedMs),
      seconds(step.endedMs),
      seconds(step.endedMs - step.startedMs),
      step.ok ? "yes" : '<strong class="bad">no</strong>',
    ]),
    "steps",
  );
  const notes =
    journal.notes.length === 0
      ? ""
      : `<ul class="notes">${journal.notes.map((note) => `<li>+${seconds(note.atMs)}: ${escapeHtml(note.message)}</li>`).join("")}</ul>`;
  return steps + notes;
}

/** Faults, configs and restarts from the series, in time order. */
export function eventsTable(journal: Journal): string {
  const series = journal.series;
  if (series === undefined) return "";
  const events = [
    ...series.faults.map((fault, index) => ({
      atMs: fault.fromMs,
      text: `${faultLabel(index)}: fault ${escapeHtml(fault.name)}${fault.target === null ? "" : ` on ${escapeHtml(fault.target)}`}, ${fault.toMs === null ? "never healed" : `healed at +${seconds(fault.toMs)}`}`,
    })),
    ...series.configs.map((config) => ({
      atMs: config.atMs,
      text: `config version ${config.version ?? "?"} ${config.kind}${config.invalid === null ? "" : ` <span class="bad">(invalid: ${escapeHtml(config.invalid)})</span>`}`,
    })),
    ...series.restarts.map((restart) => ({
      atMs: restart.atMs,
      text: `${escapeHtml(restart.service)} ${escapeHtml(restart.kind)}`,
    })),
  ].sort((a, b) => a.atMs - b.atMs);
  if (events.length === 0) return "";
  return table(
    ["at", "what"],
    events.map((event) => [`+${seconds(event.atMs)}`, event.text]),
    "events",
  );
}
