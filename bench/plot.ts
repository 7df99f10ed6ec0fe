// The benchmark results as one SVG: per scenario, ours against the reference
// (where there is one), as a share of the better of the two or of the target.
import type { Summary } from "./scenarios.ts";

const WIDTH = 760;
const ROW = 46;
const LABEL = 300;
const BAR = WIDTH - LABEL - 120;

function xmlEscape(text: string): string {
  return text.replace(
    /[&<>"]/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] ?? c,
  );
}

export function plot(summaries: readonly Summary[]): string {
  const rows = summaries.map((s, i) => {
    const y = 40 + i * ROW;
    // Throughput: longer is better. Time: shorter is better, so bars show the inverse.
    const better = s.unit === "/s";
    const values = [s.ours, s.reference].filter((v): v is number => v !== undefined);
    const scale = (v: number) => (better ? v / Math.max(...values) : Math.min(...values) / v);
    const bar = (value: number | undefined, offset: number, colour: string, name: string) =>
      value === undefined
        ? ""
        : `<rect x="${LABEL}" y="${y + offset}" width="${(BAR * scale(value)).toFixed(1)}" height="14" fill="${colour}"/>` +
          `<text x="${LABEL + BAR * scale(value) + 6}" y="${y + offset + 11}" font-size="11">${name} ${xmlEscape(
            s.unit === "/s"
              ? `${Math.round(value).toLocaleString("en")}/s`
              : `${value.toFixed(1)} ${s.unit}`,
          )}</text>`;
    return (
      `<text x="8" y="${y + 12}" font-size="12">${xmlEscape(s.scenario)}</text>` +
      `<text x="8" y="${y + 28}" font-size="10" fill="#666">${xmlEscape(`target: ${s.target}`)}</text>` +
      bar(s.ours, 0, s.met ? "#2b8a3e" : "#c92a2a", "ours") +
      bar(s.reference, 17, "#868e96", "reference")
    );
  });
  const height = 50 + summaries.length * ROW;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" font-family="sans-serif">` +
    "<title>Benchmark results: ours against the reference, per scenario</title>" +
    `<rect width="100%" height="100%" fill="white"/>` +
    `<text x="8" y="20" font-size="14" font-weight="bold">grpc-chat: ours (green: target met, red: missed) and the reference</text>` +
    `${rows.join("")}</svg>\n`
  );
}
