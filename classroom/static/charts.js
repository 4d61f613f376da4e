"use strict";
// Small charts as SVG markup (no libraries, nothing loaded). Labels are escaped.

function esc(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

// series: {name: [value per turn]}; options: title, highlight (names), marker (turn index, 0-based), top.
function lineChart(series, options) {
  const o = options || {};
  const width = 600, height = 210, pad = 32, legend = 90;
  const names = Object.keys(series);
  const turns = Math.max(1, ...names.map((n) => series[n].length));
  let top = o.top || Math.max(1, ...names.flatMap((n) => series[n].filter((v) => v !== null)));
  const w = width - 2 * pad - legend, h = height - 2 * pad, base = pad + h;
  const x = (t) => pad + (turns > 1 ? (t * w) / (turns - 1) : w / 2);
  const y = (v) => base - (h * v) / top;
  const parts = ['<svg class="plot wide" viewBox="0 0 ' + width + " " + height + '" role="img" aria-label="' + esc(o.title || "chart") + '">'];
  if (o.title) parts.push('<text x="4" y="14" class="plot-title">' + esc(o.title) + "</text>");
  parts.push('<line class="axis" x1="' + pad + '" y1="' + base + '" x2="' + (pad + w) + '" y2="' + base + '"/>');
  parts.push('<text x="' + (pad - 4) + '" y="' + (pad + 4) + '" class="tick" text-anchor="end">' + esc(Math.round(top)) + "</text>");
  parts.push('<text x="' + (pad - 4) + '" y="' + base + '" class="tick" text-anchor="end">0</text>');
  parts.push('<text x="' + (pad + w / 2) + '" y="' + (base + 16) + '" class="tick" text-anchor="middle">turn 1 .. ' + turns + "</text>");
  if (o.marker !== undefined && o.marker !== null && o.marker >= 0) {
    const mx = x(o.marker);
    parts.push('<line class="marker" x1="' + mx + '" y1="' + pad + '" x2="' + mx + '" y2="' + base + '"/>');
  }
  names.forEach((name, i) => {
    const values = series[name];
    const css = (o.highlight || []).includes(name) ? "line hl" : "line c" + (i % 8);
    const points = values.map((v, t) => x(t).toFixed(1) + "," + y(v === null ? 0 : v).toFixed(1)).join(" ");
    if (values.length > 1) parts.push('<polyline class="' + css + '" points="' + points + '"/>');
    else if (values.length === 1) parts.push('<circle class="' + css + '" r="3" cx="' + x(0) + '" cy="' + y(values[0] || 0) + '"/>');
    parts.push('<text x="' + (pad + w + 8) + '" y="' + (pad + 4 + 12 * i) + '" class="legend ' + css + '">' + esc(name) + "</text>");
  });
  parts.push("</svg>");
  return parts.join("");
}

// One labelled bar: value of max (a threshold at max), with the figure as text.
function meter(label, value, max, text, good) {
  const share = Math.max(0, Math.min(1, max > 0 ? value / max : 0));
  const bar = el("div", { class: "meter" + (good ? " good" : "") });
  bar.append(el("span", { style: null }));
  bar.firstChild.style.width = (100 * share).toFixed(1) + "%";
  return el("div", { class: "figure" }, el("div", { class: "label" }, el("span", { text: label }), el("span", { text: text })), bar);
}
