// The report's stylesheet, inline: readable in a narrow window (charts scale to the width,
// profiles stack) and printable (no page breaks inside a chart or a table row, details open).

export const REPORT_CSS = `
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; padding: 1rem; max-width: 1400px; color: #222; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; border-bottom: 1px solid #ddd; }
.note { color: #666; font-style: italic; }
.bad { color: #b00020; }
.ok { color: #1b7a1b; }
.profiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 420px), 1fr)); gap: 1rem; }
figure.chart { margin: 0; }
figure.chart figcaption { font-weight: 600; }
figure.chart svg { width: 100%; height: auto; display: block; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: .25rem 0; }
th, td { border: 1px solid #ddd; padding: .2rem .5rem; text-align: left; vertical-align: top; }
table.numbers td:not(:first-child), table.overview td:not(:first-child) { text-align: right; }
details.invariant { margin: .3rem 0; border: 1px solid #ddd; border-radius: 4px; padding: .3rem .5rem; }
details.invariant .status { font-variant: small-caps; font-weight: 700; }
details.violated .status { color: #b00020; }
details.held .status { color: #1b7a1b; }
details.unknown .status { color: #8a6d00; }
pre { white-space: pre-wrap; word-break: break-word; font-size: 12px; background: #f7f7f7; padding: .5rem; }
@media print {
  body { max-width: none; padding: 0; font-size: 11px; }
  figure.chart, tr, details { break-inside: avoid; }
  details > *:not(summary) { display: block; }
  .scroll { overflow: visible; }
}
`;
