// JUnit XML: one test suite per profile, one test case per invariant; a case fails when the
// invariant's outcome is not the one the experiment expects of that profile. On a target the
// suite's properties say which, and what its ingress counted as acknowledged.

import { formatAbort } from "../experiment/abort.ts";
import type { Journal } from "../experiment/journal.ts";

function escape(text: string): string {
  return text.replace(/[<>&"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/**
 * On a target: which, and what its ingress counted as acknowledged (docs/targets.md, "Ingress"),
 * as the suite's properties.
 */
function properties(journal: Journal): string {
  const { target } = journal;
  if (target === undefined) return "";
  const entries: Array<[string, string]> = [
    ["target", target.name],
    ["ingress", target.ingress],
    ...(target.acknowledgement === null
      ? []
      : [["acknowledgement", target.acknowledgement] satisfies [string, string]]),
  ];
  const lines = entries.map(
    ([name, value]) => `      <property name="${name}" value="${escape(value)}"/>`,
  );
  return `    <properties>\n${lines.join("\n")}\n    </properties>\n`;
}

export function formatJUnit(journals: readonly Journal[]): string {
  const suites = journals.map((journal) => {
    const cases = journal.outcomes.map((outcome) => {
      const result = journal.verdict?.invariants[outcome.invariant];
      const name = `${outcome.invariant} is ${outcome.expected}`;
      const head = `    <testcase classname="${escape(`spillway.${journal.experiment}.${journal.profile}`)}" name="${escape(name)}" time="${(journal.durationMs / 1000).toFixed(3)}">`;
      if (outcome.matched) return `${head}</testcase>`;
      const message = `expected ${outcome.expected}, got ${outcome.actual}: ${result?.summary ?? ""}`;
      return `${head}\n      <failure message="${escape(message)}">${escape(JSON.stringify(result?.evidence ?? {}, null, 2))}</failure>\n    </testcase>`;
    });
    if (journal.status !== "completed") {
      cases.push(
        `    <testcase classname="${escape(`spillway.${journal.experiment}.${journal.profile}`)}" name="run completes">\n      <error message="${escape(journal.abort === undefined ? `run ${journal.status}` : `run aborted: ${formatAbort(journal.abort)}`)}">${escape(journal.error ?? "")}</error>\n    </testcase>`,
      );
    }
    const failures = journal.outcomes.filter((outcome) => !outcome.matched).length;
    const errors = journal.status === "completed" ? 0 : 1;
    return `  <testsuite name="${escape(`${journal.experiment} on ${journal.profile}`)}" tests="${cases.length}" failures="${failures}" errors="${errors}" time="${(journal.durationMs / 1000).toFixed(3)}" timestamp="${journal.startedAt}">\n${properties(journal)}${cases.join("\n")}\n  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="spillway">\n${suites.join("\n")}\n</testsuites>\n`;
}
