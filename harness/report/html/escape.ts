// Every string a report takes from a journal (tenant names, error text, evidence) goes through
// here before it reaches the HTML: a journal is data, never markup (docs/reports.md).

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** `text` as HTML text or an attribute value (quoted with either kind of quote). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => ENTITIES[character]!);
}
