// The analytics charts: this tenant's figures from GET /api/v2/analytics drawn as plain SVG (no
// library, nothing fetched but the figures). Uses api() and $() from app.js.
"use strict";
const SVG_NS = "http://www.w3.org/2000/svg";
const STATUS_COLOURS = {completed: "#2e8b57", failed: "#c0392b", cancelled: "#999", running: "#6a5acd"};

function svg(tag, attrs = {}, text = null) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== null) el.textContent = text;
  return el;
}

function fmt(value, unit = "") {
  if (value === null || value === undefined) return "–";
  if (unit === "%") return `${(value * 100).toFixed(0)}%`;
  if (unit === "ms") return value >= 1000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`;
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

// Horizontal bars: rows of {label, value}; the value printed beside each bar.
function barChart(title, rows, unit = "", max = null) {
  const width = 340, row = 18, left = 120, top = 20;
  const chart = svg("svg", {class: "chart", width, height: top + rows.length * row + 6, role: "img",
                            "aria-label": title});
  chart.appendChild(svg("text", {x: 0, y: 13, class: "chart-title"}, title));
  const top_value = max ?? Math.max(1e-9, ...rows.map((r) => r.value || 0));
  rows.forEach((r, i) => {
    const y = top + i * row;
    const w = Math.max(1, (width - left - 60) * (r.value || 0) / top_value);
    chart.appendChild(svg("text", {x: left - 6, y: y + 12, "text-anchor": "end"}, r.label));
    chart.appendChild(svg("rect", {x: left, y: y + 2, width: w, height: row - 5, fill: r.colour || "#6a5acd",
                                   "data-label": r.label, "data-value": r.value ?? ""}));
    chart.appendChild(svg("text", {x: left + w + 4, y: y + 12, class: "chart-value"}, fmt(r.value, unit)));
  });
  if (!rows.length) chart.appendChild(svg("text", {x: 0, y: top + 12, class: "chart-value"}, "no data yet"));
  return chart;
}

// Compositions per day, stacked by status.
function dailyChart(daily) {
  const width = 340, height = 150, left = 28, bottom = 20, top = 20;
  const chart = svg("svg", {class: "chart", width, height, role: "img", "aria-label": "compositions per day"});
  chart.appendChild(svg("text", {x: 0, y: 13, class: "chart-title"}, "Compositions per day, by status"));
  const most = Math.max(1, ...daily.map((d) => d.total));
  const step = (width - left) / Math.max(1, daily.length);
  daily.forEach((d, i) => {
    let y = height - bottom;
    for (const [status, count] of Object.entries(d.by_status)) {
      const h = (height - bottom - top) * count / most;
      y -= h;
      chart.appendChild(svg("rect", {x: left + i * step + 2, y, width: Math.max(2, step - 4), height: h,
                                     fill: STATUS_COLOURS[status] || "#888", "data-label": `${d.day} ${status}`,
                                     "data-value": count}));
    }
    chart.appendChild(svg("text", {x: left + i * step + step / 2, y: height - 5, "text-anchor": "middle",
                                   class: "chart-value"}, d.day.slice(5)));
  });
  chart.appendChild(svg("text", {x: 0, y: top + 10, class: "chart-value"}, String(most)));
  return chart;
}

function sumBy(daily, key) {
  const totals = {};
  for (const d of daily) for (const [k, v] of Object.entries(d[key])) totals[k] = (totals[k] || 0) + v;
  return Object.entries(totals).sort((a, b) => b[1] - a[1]).map(([label, value]) => ({label, value}));
}

async function loadAnalytics() {
  const box = $("charts");
  try {
    const figures = await (await api(`/api/v2/analytics?days=${$("analytics-days").value}`)).json();
    box.replaceChildren();
    box.appendChild(dailyChart(figures.daily));
    box.appendChild(barChart("By genre", sumBy(figures.daily, "by_genre")));
    box.appendChild(barChart("By mood", sumBy(figures.daily, "by_mood")));
    const lat = figures.latency.duration_ms;
    box.appendChild(barChart(`End-to-end latency (${figures.latency.completed} completed)`,
                             Object.entries(lat).map(([label, value]) => ({label, value})), "ms"));
    box.appendChild(barChart("Stage failure rate by provider", figures.stages.map((s) => ({
      label: `${s.stage}/${s.provider}`, value: s.failure_rate, colour: "#c0392b"})), "%", 1));
    box.appendChild(barChart("Stage median duration by provider", figures.stages.map((s) => ({
      label: `${s.stage}/${s.provider}`, value: s.duration_ms.p50})), "ms"));
    box.appendChild(barChart("Mean rating by genre and tempo third", figures.ratings.map((r) => ({
      label: `${r.genre} ${r.tempo_third} (${r.ratings})`, value: r.mean_rating, colour: "#d4a017"})), "", 5));
    $("analytics-error").textContent = "";
  } catch (e) {
    $("analytics-error").textContent = e.message;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("analytics-refresh").addEventListener("click", loadAnalytics);
});
