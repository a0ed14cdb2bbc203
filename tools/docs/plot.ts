/**
 * A small log-log line plot as a standalone SVG: one polyline with markers per series, a legend,
 * axis labels, decade ticks (with 2 and 5 between when the range is narrow) and an optional
 * horizontal reference line. Written for docs/benchmarks.md; no dependencies.
 */

export interface PlotSeries {
  label: string;
  color: string;
  dashed?: boolean;
  /** [x, y] with both positive; others are left out. */
  points: [number, number][];
}

export interface LogLogPlot {
  title: string;
  xLabel: string;
  yLabel: string;
  series: PlotSeries[];
  hline?: { y: number; label: string };
  width?: number;
  height?: number;
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const fmt = (v: number) => (Math.round(v * 10) / 10).toString();

/** Tick values in [lo, hi]: 1, 2, 5 x 10^k (or only 10^k when that leaves at least three). */
export function logTicks(lo: number, hi: number): number[] {
  // Parsed from decimal text, so that 1e-4 is the double of "1e-4" and not 10 ** -4.
  const exponents: number[] = [];
  for (let k = Math.floor(Math.log10(lo)); k <= Math.ceil(Math.log10(hi)); k++) exponents.push(k);
  const inRange = (v: number) => v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9);
  const plain = exponents.map((k) => Number(`1e${k}`)).filter(inRange);
  if (plain.length >= 3) return plain;
  return exponents.flatMap((k) => [1, 2, 5].map((m) => Number(`${m}e${k}`))).filter(inRange);
}

/** "1e-3", "0.01", "20", "250": short tick labels. */
export function tickLabel(v: number): string {
  if (v >= 0.01 && v < 1e5) return String(Number(v.toPrecision(3)));
  const k = Math.floor(Math.log10(v) + 1e-9);
  const m = v / 10 ** k;
  return Math.abs(m - 1) < 1e-9 ? `1e${k}` : `${Number(m.toPrecision(2))}e${k}`;
}

export function logLogSvg(plot: LogLogPlot): string {
  const width = plot.width ?? 720;
  const height = plot.height ?? 440;
  const series = plot.series.map((s) => ({ ...s, points: s.points.filter(([x, y]) => x > 0 && y > 0 && Number.isFinite(x) && Number.isFinite(y)) }));
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1])).concat(plot.hline ? [plot.hline.y] : []);
  if (xs.length === 0) throw new Error(`plot "${plot.title}" has no points`);
  // x: the data's range with a little room; y: whole decades around the data.
  const xLo = Math.min(...xs) / 1.08;
  const xHi = Math.max(...xs) * 1.08;
  const yLo = 10 ** Math.floor(Math.log10(Math.min(...ys)));
  const yHi = 10 ** Math.ceil(Math.log10(Math.max(...ys)));
  const legendWidth = 170;
  const m = { left: 74, right: legendWidth + 16, top: 34, bottom: 52 };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const X = (x: number) => m.left + ((Math.log10(x) - Math.log10(xLo)) / (Math.log10(xHi) - Math.log10(xLo))) * pw;
  const Y = (y: number) => m.top + (1 - (Math.log10(y) - Math.log10(yLo)) / (Math.log10(yHi) - Math.log10(yLo))) * ph;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  out.push(`<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(plot.title)}</text>`);
  // Grid and ticks.
  // A range under a decade gets few 1-2-5 ticks: then the data's own x values are the ticks.
  const xTicks = logTicks(xLo, xHi).length >= 3 ? logTicks(xLo, xHi) : [...new Set(xs)].sort((a, b) => a - b);
  for (const t of xTicks) {
    out.push(`<line x1="${fmt(X(t))}" y1="${m.top}" x2="${fmt(X(t))}" y2="${m.top + ph}" stroke="#e4e4e4"/>`);
    out.push(`<text x="${fmt(X(t))}" y="${m.top + ph + 16}" text-anchor="middle">${tickLabel(t)}</text>`);
  }
  for (const t of logTicks(yLo, yHi)) {
    out.push(`<line x1="${m.left}" y1="${fmt(Y(t))}" x2="${m.left + pw}" y2="${fmt(Y(t))}" stroke="#e4e4e4"/>`);
    out.push(`<text x="${m.left - 6}" y="${fmt(Y(t) + 4)}" text-anchor="end">${tickLabel(t)}</text>`);
  }
  out.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#444"/>`);
  out.push(`<text x="${m.left + pw / 2}" y="${height - 12}" text-anchor="middle">${escapeXml(plot.xLabel)} (log)</text>`);
  out.push(`<text transform="translate(18 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${escapeXml(plot.yLabel)} (log)</text>`);
  if (plot.hline) {
    const y = fmt(Y(plot.hline.y));
    out.push(`<line x1="${m.left}" y1="${y}" x2="${m.left + pw}" y2="${y}" stroke="#000" stroke-dasharray="2 3"/>`);
    out.push(`<text x="${m.left + pw - 4}" y="${fmt(Y(plot.hline.y) - 5)}" text-anchor="end" font-size="11">${escapeXml(plot.hline.label)}</text>`);
  }
  for (const s of series) {
    if (s.points.length === 0) continue;
    const d = s.points.map(([x, y], i) => `${i ? 'L' : 'M'}${fmt(X(x))},${fmt(Y(y))}`).join(' ');
    out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.6"${s.dashed ? ' stroke-dasharray="6 3"' : ''}/>`);
    for (const [x, y] of s.points) out.push(`<circle cx="${fmt(X(x))}" cy="${fmt(Y(y))}" r="2.4" fill="${s.color}"/>`);
  }
  // Legend.
  const lx = width - legendWidth;
  series.forEach((s, i) => {
    const y = m.top + 10 + i * 18;
    out.push(`<line x1="${lx}" y1="${y}" x2="${lx + 24}" y2="${y}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 3"' : ''}/>`);
    out.push(`<text x="${lx + 30}" y="${y + 4}">${escapeXml(s.label)}</text>`);
  });
  if (plot.hline) {
    const y = m.top + 10 + series.length * 18;
    out.push(`<line x1="${lx}" y1="${y}" x2="${lx + 24}" y2="${y}" stroke="#000" stroke-dasharray="2 3"/>`);
    out.push(`<text x="${lx + 30}" y="${y + 4}">target (DDIM-250)</text>`);
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}
