// Plain-text figures and tables for terminal reports.

export const percent = (share: number): string => `${(100 * share).toFixed(1)}%`;
export const count = (value: number): string => Math.round(value).toLocaleString("en-US");

/** Left-aligned columns two spaces apart; the first line is the header. */
export function renderTable(lines: readonly string[][]): string[] {
  const widths = lines[0]!.map((_, column) =>
    Math.max(...lines.map((line) => line[column]!.length)),
  );
  return lines.map((line) =>
    line
      .map((text, column) => text.padEnd(widths[column]!))
      .join("  ")
      .trimEnd(),
  );
}
