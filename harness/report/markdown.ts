// The CI summary of experiment runs in GitHub-flavoured Markdown (`run --markdown`, and what
// `run` appends to $GITHUB_STEP_SUMMARY): the same rows as the terminal summary (./summary.ts),
// as a verdict table and a ledger table with one column per profile or variant.

import type { Journal } from "../experiment/journal.ts";
import {
  acknowledgementLines,
  asExpectedRow,
  columnTitle,
  findings,
  INCIDENT_WINDOW_LABEL,
  ledgerRows,
  sideBySide,
  verdictRows,
} from "./summary.ts";

/**
 * Characters that would start markup in GitHub's Markdown (emphasis, code, links, HTML, entities,
 * strikethrough, math, a heading's closing #) or end a table cell: tenant names, variant names
 * and error text come from files and software Spillway does not control.
 */
const MARKUP = /[\\`*_[\]<>|~&$#]/g;

/** Text shown as itself, on one line (a cell or a list item cannot span lines). */
export function escapeMarkdown(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, " ").replace(MARKUP, (character) => `\\${character}`);
}

function markdownTable(header: readonly string[], body: readonly string[][]): string[] {
  const line = (cells: readonly string[]) =>
    `| ${cells.map((text) => escapeMarkdown(text.trim())).join(" | ")} |`;
  return [line(header), `|${header.map(() => " --- |").join("")}`, ...body.map(line)];
}

/**
 * The Markdown summary of one or more runs of the same experiment (one column each, as with
 * --compare), ending with a newline; `reportPath` is where the HTML report was written, if one was.
 */
export function formatMarkdown(
  journals: readonly Journal[],
  options: { reportPath?: string } = {},
): string {
  const first = journals[0];
  if (first === undefined) throw new Error("formatMarkdown: no journal to summarise");
  const titles = journals.map(columnTitle);
  const verdict = sideBySide(journals, (journal) => [
    ...verdictRows(journal, true),
    asExpectedRow(journal),
  ]);
  // The terminal indents the incident window's row under "lost silently"; a cell cannot.
  const ledger = sideBySide(journals, ledgerRows).map(([label, ...values]) => [
    label === INCIDENT_WINDOW_LABEL ? "lost silently in incident window" : label!,
    ...values,
  ]);
  const lines = [
    `## ${escapeMarkdown(first.experiment)}`,
    "",
    escapeMarkdown(first.description),
    "",
    ...markdownTable(["invariant", ...titles], verdict),
    "",
    ...markdownTable(["ledger", ...titles], ledger),
  ];
  const acknowledged = acknowledgementLines(journals);
  if (acknowledged.length > 0)
    lines.push("", ...acknowledged.map((text) => `- ${escapeMarkdown(text)}`));
  const found = findings(journals);
  if (found.length > 0) {
    lines.push("", "**Not held**", "");
    for (const finding of found)
      lines.push(`- **${escapeMarkdown(finding.profile)}**: ${escapeMarkdown(finding.text)}`);
  }
  if (options.reportPath !== undefined)
    lines.push("", `HTML report: ${escapeMarkdown(options.reportPath)}`);
  return lines.join("\n") + "\n";
}
