// JUnit XML: on a target each suite carries, as properties, the target, its ingress and what that
// ingress counted as acknowledged (docs/targets.md, "Ingress"); a run on the reference pipeline
// has none.

import { describe, expect, it } from "vitest";
import type { Journal } from "../../harness/experiment/journal.ts";
import { formatJUnit } from "../../harness/report/junit.ts";

const journal = {
  experiment: "link-reset",
  profile: "rsyslog-relay",
  status: "completed",
  durationMs: 1_000,
  startedAt: "2026-12-01T00:00:00.000Z",
  outcomes: [
    { invariant: "no-silent-loss", expected: "violated", actual: "violated", matched: true },
  ],
  verdict: null,
} as unknown as Journal;

describe("formatJUnit", () => {
  it("gives a target's suite its ingress and what it counted as acknowledged, escaped", () => {
    const xml = formatJUnit([
      {
        ...journal,
        target: {
          name: "rsyslog-relay",
          file: "/targets/rsyslog-relay/target.yaml",
          variant: null,
          ingress: "syslog",
          acknowledgement: `written to the socket "without error" & nothing more`,
        },
      },
    ]);
    const suite = xml.slice(xml.indexOf("<testsuite "), xml.indexOf("</testsuite>"));
    expect(suite).toContain(
      [
        "    <properties>",
        `      <property name="target" value="rsyslog-relay"/>`,
        `      <property name="ingress" value="syslog"/>`,
        `      <property name="acknowledgement" value="written to the socket &#34;without error&#34; &#38; nothing more"/>`,
        "    </properties>",
        `    <testcase classname="spillway.link-reset.rsyslog-relay" name="no-silent-loss is violated"`,
      ].join("\n"),
    );
  });

  it("gives a run on the reference pipeline no properties", () => {
    expect(formatJUnit([journal])).not.toContain("<properties>");
  });
});
