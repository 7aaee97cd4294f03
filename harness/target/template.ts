// Config templates of a target (docs/targets.md, "Templates"): every `{{spillway.<key>}}` is
// replaced by its value (a port Spillway allocated, a link's proxy address, a directory, a
// variable); an unknown `spillway.` key is an error naming the template, the line and the keys
// there are; any other `{{…}}` is left alone, since Vector, Fluent Bit and others use the same
// braces for their own templates.

const PLACEHOLDER = /\{\{\s*spillway\.([A-Za-z0-9_.>-]+)\s*\}\}/g;

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TemplateError";
  }
}

/** Keys shown in an error: those sharing the unknown key's first part, else all (bounded). */
function knownKeys(values: ReadonlyMap<string, string>, key: string): string {
  const head = key.split(".")[0];
  const related = [...values.keys()].filter((known) => known.split(".")[0] === head);
  const list = (related.length > 0 ? related : [...values.keys()]).sort();
  const shown = list.slice(0, 30).map((known) => `spillway.${known}`);
  return shown.join(", ") + (list.length > shown.length ? `, … (${list.length} in all)` : "");
}

/** `text` with every spillway placeholder replaced; `where` names the template in errors. */
export function renderTemplate(
  text: string,
  values: ReadonlyMap<string, string>,
  where: string,
): string {
  return text.replace(PLACEHOLDER, (placeholder, key: string, offset: number) => {
    const value = values.get(key);
    if (value !== undefined) return value;
    const line = text.slice(0, offset).split("\n").length;
    throw new TemplateError(
      `${where}:${line}: ${placeholder} is not a Spillway placeholder; expected one of: ${knownKeys(values, key)}`,
    );
  });
}

/** The spillway keys `text` uses, in order of first use. */
export function placeholdersOf(text: string): string[] {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((match) => match[1]!))];
}
