// SPDX-License-Identifier: Apache-2.0
// A hand-written SVG line chart (no dependencies): one or more panels side by side, each with
// numeric axes (x optionally logarithmic), one polyline with markers per series, and a legend.
// Enough for "CPU and memory vs workload"; not a general plotting library.

export interface Series {
  name: string;
  points: [number, number][];
}

export interface Panel {
  title: string;
  xLabel: string;
  yLabel: string;
  logX?: boolean;
  series: Series[];
}

const COLORS = ['#d62728', '#1f77b4', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];
const W = 420;
const H = 300;
const M = { left: 60, right: 15, top: 30, bottom: 45 };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Round-ish tick values between lo and hi. */
function ticks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((k) => k * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function fmt(v: number): string {
  if (v >= 1e6) return `${v / 1e6}M`;
  if (v >= 1e3) return `${v / 1e3}k`;
  return String(Number(v.toPrecision(3)));
}

function panel(p: Panel, ox: number, names: string[]): string {
  const all = p.series.flatMap((s) => s.points);
  const xs = all.map(([x]) => x);
  const ys = all.map(([, y]) => y);
  const fx = p.logX ? (x: number): number => Math.log10(x) : (x: number): number => x;
  let x0 = Math.min(...xs.map(fx));
  let x1 = Math.max(...xs.map(fx));
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  const yMax = Math.max(...ys, 0) * 1.1 || 1;
  const px = (x: number): number => ox + M.left + ((fx(x) - x0) / (x1 - x0)) * (W - M.left - M.right);
  const py = (y: number): number => M.top + (1 - y / yMax) * (H - M.top - M.bottom);
  const out: string[] = [];
  out.push(`<text x="${ox + W / 2}" y="18" text-anchor="middle" font-weight="bold">${esc(p.title)}</text>`);
  out.push(`<line x1="${ox + M.left}" y1="${H - M.bottom}" x2="${ox + W - M.right}" y2="${H - M.bottom}" stroke="#333"/>`);
  out.push(`<line x1="${ox + M.left}" y1="${M.top}" x2="${ox + M.left}" y2="${H - M.bottom}" stroke="#333"/>`);
  for (const t of ticks(0, yMax)) {
    out.push(`<line x1="${ox + M.left}" y1="${py(t)}" x2="${ox + W - M.right}" y2="${py(t)}" stroke="#eee"/>`);
    out.push(`<text x="${ox + M.left - 5}" y="${py(t) + 4}" text-anchor="end">${fmt(t)}</text>`);
  }
  for (const x of [...new Set(xs)].sort((a, b) => a - b)) {
    out.push(`<text x="${px(x)}" y="${H - M.bottom + 15}" text-anchor="middle">${fmt(x)}</text>`);
  }
  out.push(`<text x="${ox + (W + M.left) / 2}" y="${H - 8}" text-anchor="middle">${esc(p.xLabel)}</text>`);
  out.push(`<text transform="translate(${ox + 14},${(H + M.top - M.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(p.yLabel)}</text>`);
  for (const s of p.series) {
    const color = COLORS[names.indexOf(s.name) % COLORS.length]!;
    const pts = [...s.points].sort((a, b) => a[0] - b[0]);
    if (pts.length > 1) out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ')}"/>`);
    for (const [x, y] of pts) out.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3.5" fill="${color}"><title>${esc(`${s.name}: ${fmt(x)} → ${y}`)}</title></circle>`);
  }
  return out.join('\n');
}

/** Panels side by side with one shared legend underneath. */
export function chart(panels: Panel[]): string {
  const names = [...new Set(panels.flatMap((p) => p.series.map((s) => s.name)))];
  const width = W * panels.length;
  const height = H + 30;
  const legend = names
    .map((n, i) => `<rect x="${20 + i * 110}" y="${H + 8}" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/><text x="${36 + i * 110}" y="${H + 18}">${esc(n)}</text>`)
    .join('\n');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...panels.map((p, i) => panel(p, i * W, names)),
    legend,
    '</svg>',
    '',
  ].join('\n');
}
