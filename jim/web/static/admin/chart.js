// Charts drawn as inline SVG: grouped bars for statistics, a line for live figures.
const SVG = "http://www.w3.org/2000/svg";
const COLORS = ["#2f6fdf", "#e0803a", "#3aa76d", "#9b59b6"];

function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = String(text);
  return node;
}

function frame(width, height, label) {
  return svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img", "aria-label": label,
    preserveAspectRatio: "xMidYMid meet" });
}

// One bar per series per label: labels ["2026-12-06", ...], series [{name, values: [..]}].
export function barChart(label, labels, series) {
  const width = 640;
  const height = 240;
  const left = 40;
  const bottom = 40;
  const top = 24;
  const plotHeight = height - bottom - top;
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const chart = frame(width, height, label);
  const slot = (width - left - 8) / Math.max(1, labels.length);
  const bar = Math.max(1, (slot * 0.8) / Math.max(1, series.length));
  chart.append(svg("line", { x1: left, y1: top + plotHeight, x2: width - 8, y2: top + plotHeight, class: "axis" }));
  chart.append(svg("text", { x: left - 4, y: top + 4, "text-anchor": "end", class: "tick" }, max));
  chart.append(svg("text", { x: left - 4, y: top + plotHeight, "text-anchor": "end", class: "tick" }, 0));
  labels.forEach((text, i) => {
    const x0 = left + i * slot + slot * 0.1;
    series.forEach((s, j) => {
      const value = s.values[i] || 0;
      const barHeight = (value / max) * plotHeight;
      const rect = svg("rect", { x: x0 + j * bar, y: top + plotHeight - barHeight, width: bar, height: barHeight,
        fill: COLORS[j % COLORS.length], class: "bar" });
      rect.append(svg("title", null, `${text} ${s.name}: ${value}`));
      chart.append(rect);
    });
    const every = Math.ceil(labels.length / 8);
    if (i % every === 0) {
      chart.append(svg("text", { x: x0 + (slot * 0.8) / 2, y: height - bottom + 16, "text-anchor": "middle", class: "tick" },
        text.length > 10 ? text.slice(5) : text));
    }
  });
  series.forEach((s, j) => {
    const x = left + j * 150;
    chart.append(svg("rect", { x, y: 4, width: 10, height: 10, fill: COLORS[j % COLORS.length] }));
    chart.append(svg("text", { x: x + 14, y: 13, class: "legend" }, s.name));
  });
  return chart;
}

// A line of the last values (oldest first), with its latest value and the unit.
export function lineChart(label, values, unit) {
  const width = 320;
  const height = 90;
  const chart = frame(width, height, label);
  const max = Math.max(...values, 0) || 1;
  const step = values.length > 1 ? (width - 8) / (values.length - 1) : 0;
  const points = values.map((v, i) => `${4 + i * step},${height - 6 - (v / max) * (height - 30)}`).join(" ");
  chart.append(svg("line", { x1: 4, y1: height - 6, x2: width - 4, y2: height - 6, class: "axis" }));
  if (values.length) chart.append(svg("polyline", { points, fill: "none", stroke: COLORS[0], "stroke-width": 2 }));
  const last = values.length ? values[values.length - 1] : 0;
  chart.append(svg("text", { x: 4, y: 14, class: "legend" }, `${label}: ${format(last)} ${unit} (max ${format(max)})`));
  return chart;
}

export function format(value) {
  if (!Number.isFinite(value)) return "–";
  if (value === 0 || Math.abs(value) >= 100) return String(Math.round(value));
  return value.toPrecision(3);
}
