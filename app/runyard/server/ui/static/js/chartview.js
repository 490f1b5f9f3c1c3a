// Chart view of an experiment: panels over the runs matching a filter (up to the server's
// limit): a line chart per metric with the runs overlaid, bar charts of latest values, scatter
// plots and parallel coordinates. Smoothing, log scale, x axis and grouping by a param are
// shared by every panel; panels and settings live in the URL, so a link reproduces the view.
// Each series is downsampled on the server, and the points asked for per series shrink as
// runs grow, so the bytes sent stay bounded however long the histories are.
import { COLORS, ChartPanel, linearTicks } from "./chart.js";
import { API, el, fmtNum, getJson, svg } from "./dom.js";

const root = document.getElementById("chart-view");
const experimentId = root.dataset.experimentId;
const maxRuns = Number(root.dataset.maxRuns) || 100;
const panelsEl = document.getElementById("panels");
const filterInput = document.getElementById("filter");
const filterError = document.getElementById("filter-error");
const runsInfo = document.getElementById("runs-info");
const xMode = document.getElementById("x-mode");
const smoothing = document.getElementById("smoothing");
const smoothingOut = document.getElementById("smoothing-out");
const logScale = document.getElementById("log-scale");
const groupBy = document.getElementById("group-by");
const kind = document.getElementById("panel-kind");
const firstValue = document.getElementById("panel-x");
const secondValue = document.getElementById("panel-y");

/** Points a line panel asks for in all (per series: this over the number of runs). */
const POINT_BUDGET = 50000;
const POLL_MS = 5000;
const PANEL_HEIGHT = 300;

const url = new URL(window.location.href);
const state = {
  filter: url.searchParams.get("filter") || "",
  panels: url.searchParams.getAll("panel"),
  x: url.searchParams.get("x") || "step",
  smoothing: Number(url.searchParams.get("smooth")) || 0,
  log: url.searchParams.get("log") === "1",
  group: url.searchParams.get("group") || "",
  runs: [],
  paramKeys: [],
  metricKeys: [],
  mounted: [], // { spec, panel (ChartPanel) or redraw function }
};

function syncUrl(push = false) {
  const next = new URL(window.location.href);
  next.search = "";
  if (state.filter) next.searchParams.set("filter", state.filter);
  for (const p of state.panels) next.searchParams.append("panel", p);
  if (state.x !== "step") next.searchParams.set("x", state.x);
  if (state.smoothing) next.searchParams.set("smooth", String(state.smoothing));
  if (state.log) next.searchParams.set("log", "1");
  if (state.group) next.searchParams.set("group", state.group);
  if (next.href !== window.location.href) window.history[push ? "pushState" : "replaceState"](null, "", next);
  const table = document.getElementById("table-tab");
  const query = new URLSearchParams(state.filter ? { filter: state.filter } : {});
  table.href = `/experiments/${encodeURIComponent(experimentId)}${state.filter ? `?${query}` : ""}`;
}

function clip(text, chars) {
  const t = String(text);
  return t.length > chars ? `${t.slice(0, Math.max(1, chars - 1))}…` : t;
}

/** SVG text cut to ``chars`` characters, with the whole text as its tooltip. */
function clippedText(text, chars, attrs) {
  return svg("text", attrs, svg("title", {}, document.createTextNode(String(text))), document.createTextNode(clip(text, chars)));
}

// ---- values of runs ------------------------------------------------------------------------------
function label(id) {
  const [group, ...rest] = id.split(".");
  return `${rest.join(".")}${group === "params" ? " (param)" : ""}`;
}

function rawValue(run, id) {
  const dot = id.indexOf(".");
  const group = id.slice(0, dot);
  const key = id.slice(dot + 1);
  if (group === "metrics") {
    const cell = run.metrics[key];
    return cell ? cell[0] : null;
  }
  return run[group] ? run[group][key] ?? null : null;
}

function numeric(value) {
  if (value === null || value === undefined || value === "") return null;
  const n = typeof value === "number" ? value : Number(value);
  return Number.isFinite(n) ? n : null;
}

/** A scale over the runs' values of ``id``: numbers linearly, anything else as categories. */
function scaleFor(runs, id, lo, hi) {
  const values = runs.map((r) => rawValue(r, id)).filter((v) => v !== null && v !== undefined);
  const nums = values.map(numeric);
  if (values.length && nums.every((n) => n !== null)) {
    let min = Math.min(...nums);
    let max = Math.max(...nums);
    if (min === max) { min -= 1; max += 1; }
    const pad = (max - min) * 0.04; // keep marks at the extremes inside the plot
    min -= pad;
    max += pad;
    return { kind: "number", min, max, at: (v) => (numeric(v) === null ? null : lo + ((numeric(v) - min) / (max - min)) * (hi - lo)),
      ticks: linearTicks(min, max, 4).map((t) => [t, fmtNum(t)]) };
  }
  const cats = [...new Set(values.map(String))].sort();
  const step = cats.length > 1 ? (hi - lo) / (cats.length - 1) : 0;
  const pos = new Map(cats.map((c, i) => [c, cats.length > 1 ? lo + i * step : (lo + hi) / 2]));
  return { kind: "category", at: (v) => (v === null || v === undefined ? null : pos.get(String(v)) ?? null), ticks: cats.slice(0, 30).map((c) => [c, c]) };
}

function groupOf(run) {
  return state.group ? String(rawValue(run, state.group) ?? "(none)") : null;
}

function colorOf(run, index) {
  if (!state.group) return COLORS[index % COLORS.length];
  const labels = [...new Set(state.runs.map(groupOf))].sort();
  return COLORS[labels.indexOf(groupOf(run)) % COLORS.length];
}

// ---- panels ----------------------------------------------------------------------------------------
function panelShell(spec, title) {
  const remove = el("button", { type: "button", class: "btn small", "aria-label": `Remove panel ${title}` }, "×");
  remove.addEventListener("click", () => {
    state.panels = state.panels.filter((p) => p !== spec);
    syncUrl(true);
    renderPanels();
  });
  const body = el("div", { class: "panel-body" });
  const section = el("section", { class: "card panel", dataset: { spec }, "aria-label": title },
    el("div", { class: "card-head" }, el("h2", { class: "mono" }, title), remove), body);
  return { section, body };
}

function linePanel(spec, key) {
  const { section, body } = panelShell(spec, key);
  const ids = state.runs.map((r) => r.run_id);
  const points = Math.max(20, Math.min(1000, Math.floor(POINT_BUDGET / Math.max(1, ids.length))));
  const panel = new ChartPanel(body, { runIds: ids, metricKeys: [key], key, controls: false, points });
  applySettings(panel);
  if (ids.length) panel.load(); else panel.status.textContent = "No runs match.";
  return { section, panel };
}

function applySettings(panel) {
  panel.mode = state.x;
  panel.smoothing = state.smoothing;
  panel.log = state.log;
  panel.groups = state.group ? new Map(state.runs.map((r) => [r.run_id, groupOf(r)])) : null;
  panel.domain = null;
}

function barPanel(spec, key) {
  const { section, body } = panelShell(spec, `${key} · latest`);
  const draw = () => {
    let rows = state.runs.map((r, i) => ({ name: r.run_name || r.run_id, value: numeric(rawValue(r, `metrics.${key}`)), color: colorOf(r, i), group: groupOf(r) }))
      .filter((r) => r.value !== null);
    if (state.group) {
      const groups = new Map();
      for (const r of rows) { if (!groups.has(r.group)) groups.set(r.group, []); groups.get(r.group).push(r); }
      rows = [...groups.entries()].map(([g, members]) => ({
        name: `${g} (${members.length})`, color: members[0].color,
        value: members.reduce((a, m) => a + m.value, 0) / members.length,
        lo: Math.min(...members.map((m) => m.value)), hi: Math.max(...members.map((m) => m.value)),
      }));
    }
    rows.sort((a, b) => b.value - a.value);
    if (!rows.length) { body.replaceChildren(el("p", { class: "muted" }, "No values.")); return; }
    const width = Math.max(320, body.clientWidth || 600);
    const bar = 20;
    const left = Math.min(200, width * 0.35);
    const height = rows.length * (bar + 4) + 26;
    const lo = Math.min(0, ...rows.map((r) => r.lo ?? r.value));
    const hi = Math.max(0, ...rows.map((r) => r.hi ?? r.value));
    const span = hi - lo || 1;
    const sx = (v) => left + ((v - lo) / span) * (width - left - 70);
    const chart = svg("svg", { class: "chart bar-chart", viewBox: `0 0 ${width} ${height}`, height, role: "img", "aria-label": `Bar chart of the latest ${key}` });
    rows.forEach((r, i) => {
      const y = 4 + i * (bar + 4);
      const name = r.name.length > 28 ? `${r.name.slice(0, 27)}…` : r.name;
      chart.append(svg("text", { x: left - 6, y: y + bar * 0.7, "text-anchor": "end", class: "bar-label" }, svg("title", {}, document.createTextNode(r.name)), document.createTextNode(name)));
      chart.append(svg("rect", { x: Math.min(sx(0), sx(r.value)), y, width: Math.max(1, Math.abs(sx(r.value) - sx(0))), height: bar, fill: r.color, rx: 2, class: "bar" },
        svg("title", {}, document.createTextNode(`${r.name}: ${fmtNum(r.value)}`))));
      if (r.lo !== undefined) chart.append(svg("line", { x1: sx(r.lo), x2: sx(r.hi), y1: y + bar / 2, y2: y + bar / 2, class: "whisker" }));
      chart.append(svg("text", { x: sx(Math.max(r.value, r.hi ?? r.value)) + 4, y: y + bar * 0.7, class: "bar-value" }, document.createTextNode(fmtNum(r.value))));
    });
    body.replaceChildren(chart);
  };
  draw();
  return { section, redraw: draw };
}

function scatterPanel(spec, xId, yId) {
  const { section, body } = panelShell(spec, `${label(yId)} vs ${label(xId)}`);
  const draw = () => {
    const width = Math.max(320, body.clientWidth || 600);
    const m = { top: 10, right: 16, bottom: 36, left: 64 };
    const xs = scaleFor(state.runs, xId, m.left, width - m.right);
    const ys = scaleFor(state.runs, yId, PANEL_HEIGHT - m.bottom, m.top);
    const chart = svg("svg", { class: "chart scatter", viewBox: `0 0 ${width} ${PANEL_HEIGHT}`, height: PANEL_HEIGHT, role: "img", "aria-label": `Scatter plot of ${label(yId)} against ${label(xId)}` });
    const axis = svg("g", { class: "axis" });
    for (const [t, text] of xs.ticks) axis.append(clippedText(text, 14, { x: xs.at(t), y: PANEL_HEIGHT - 18, "text-anchor": "middle" }));
    for (const [t, text] of ys.ticks) {
      axis.append(svg("line", { class: "grid-line", x1: m.left, x2: width - m.right, y1: ys.at(t), y2: ys.at(t) }));
      axis.append(clippedText(text, 9, { x: m.left - 6, y: ys.at(t) + 4, "text-anchor": "end" }));
    }
    axis.append(svg("text", { x: (m.left + width - m.right) / 2, y: PANEL_HEIGHT - 3, "text-anchor": "middle", class: "axis-title" }, document.createTextNode(label(xId))));
    chart.append(axis);
    let count = 0;
    state.runs.forEach((r, i) => {
      const cx = xs.at(rawValue(r, xId));
      const cy = ys.at(rawValue(r, yId));
      if (cx === null || cy === null) return;
      count += 1;
      chart.append(svg("circle", { cx, cy, r: 5, fill: colorOf(r, i), class: "dot", "data-run-id": r.run_id },
        svg("title", {}, document.createTextNode(`${r.run_name}: ${label(xId)} ${rawValue(r, xId)}, ${label(yId)} ${rawValue(r, yId)}`))));
    });
    chart.dataset.points = String(count);
    body.replaceChildren(chart);
  };
  draw();
  return { section, redraw: draw };
}

/** Default axes: params whose values differ between runs (at most 6), then up to 3 metrics. */
function defaultAxes() {
  const varying = state.paramKeys.filter((k) => new Set(state.runs.map((r) => r.params[k])).size > 1).slice(0, 6);
  return [...varying.map((k) => `params.${k}`), ...state.metricKeys.filter((k) => !k.startsWith("system/")).slice(0, 3).map((k) => `metrics.${k}`)];
}

function parallelPanel(spec, axesSpec) {
  const { section, body } = panelShell(spec, "Parallel coordinates");
  const draw = () => {
    const axes = axesSpec.length ? axesSpec : defaultAxes();
    if (axes.length < 2) { body.replaceChildren(el("p", { class: "muted" }, "Needs at least two params or metrics that vary.")); return; }
    const width = Math.max(420, body.clientWidth || 700);
    const m = { top: 28, bottom: 20, side: 70 };
    const gap = (width - 2 * m.side) / (axes.length - 1);
    const scales = axes.map((id) => scaleFor(state.runs, id, PANEL_HEIGHT - m.bottom, m.top));
    const chart = svg("svg", { class: "chart parallel", viewBox: `0 0 ${width} ${PANEL_HEIGHT}`, height: PANEL_HEIGHT, role: "img", "aria-label": `Parallel coordinates over ${axes.map(label).join(", ")}` });
    const last = scales[scales.length - 1];
    const heat = (run) => {
      if (state.group) return null;
      const v = numeric(rawValue(run, axes[axes.length - 1]));
      if (v === null || last.kind !== "number") return null;
      const f = (v - last.min) / (last.max - last.min);
      return `hsl(${220 - f * 200}, 70%, 48%)`;
    };
    const lines = svg("g", { class: "pc-lines" });
    state.runs.forEach((r, i) => {
      let d = "";
      axes.forEach((id, j) => {
        const y = scales[j].at(rawValue(r, id));
        if (y === null) return;
        d += `${d ? "L" : "M"}${(m.side + j * gap).toFixed(1)},${y.toFixed(1)}`;
      });
      if (!d) return;
      lines.append(svg("path", { d, stroke: heat(r) || colorOf(r, i), class: "pc-line", "data-run-id": r.run_id }, svg("title", {}, document.createTextNode(r.run_name))));
    });
    chart.append(lines);
    axes.forEach((id, j) => {
      const x = m.side + j * gap;
      const g = svg("g", { class: "axis" });
      g.append(svg("line", { x1: x, x2: x, y1: m.top, y2: PANEL_HEIGHT - m.bottom, class: "pc-axis" }));
      const chars = Math.max(4, Math.floor(gap / 7));
      g.append(clippedText(label(id), chars, { x, y: 14, "text-anchor": "middle", class: "axis-title" }));
      for (const [t, text] of scales[j].ticks) g.append(clippedText(text, Math.min(12, chars), { x: x - 4, y: scales[j].at(t) + 4, "text-anchor": "end" }));
      chart.append(g);
    });
    chart.dataset.axes = String(axes.length);
    body.replaceChildren(chart);
  };
  draw();
  return { section, redraw: draw };
}

function mountPanel(spec) {
  const [type, arg = ""] = [spec.slice(0, spec.indexOf(":") >= 0 ? spec.indexOf(":") : spec.length), spec.includes(":") ? spec.slice(spec.indexOf(":") + 1) : ""];
  if (type === "line" && arg) return linePanel(spec, arg);
  if (type === "bar" && arg) return barPanel(spec, arg);
  if (type === "scatter" && arg.includes("|")) return scatterPanel(spec, ...arg.split("|"));
  if (type === "parallel") return parallelPanel(spec, arg ? arg.split("|") : []);
  return null;
}

function renderPanels() {
  state.mounted = state.panels.map(mountPanel).filter(Boolean);
  panelsEl.replaceChildren(...state.mounted.map((p) => p.section));
  if (!state.mounted.length) panelsEl.append(el("p", { class: "empty" }, "No panels. Add one above."));
}

// ---- data ----------------------------------------------------------------------------------------
let runsTicket = 0;

/** The runs for the current filter; false when a newer request went out meanwhile (its answer wins). */
async function loadRuns() {
  const ticket = ++runsTicket;
  let data;
  try {
    data = await getJson(`${API}/runs`, { experiment_id: experimentId, filter: state.filter, max_results: maxRuns });
  } catch (err) {
    if (ticket !== runsTicket) return false;
    throw err;
  }
  if (ticket !== runsTicket) return false;
  state.runs = data.runs;
  state.paramKeys = data.param_keys;
  state.metricKeys = data.metric_keys;
  runsInfo.textContent = `${data.runs.length}${data.next_page_token ? ` (the first ${maxRuns})` : ""} run${data.runs.length === 1 ? "" : "s"} charted`;
  return true;
}

function fillSelectors() {
  const current = groupBy.value || state.group;
  groupBy.replaceChildren(el("option", { value: "" }, "No grouping"),
    ...state.paramKeys.map((k) => el("option", { value: `params.${k}` }, k)));
  groupBy.value = current;
  const metricOptions = () => state.metricKeys.map((k) => el("option", { value: k }, k));
  const anyOptions = () => [...state.paramKeys.map((k) => el("option", { value: `params.${k}` }, `${k} (param)`)),
    ...state.metricKeys.map((k) => el("option", { value: `metrics.${k}` }, k))];
  const type = kind.value;
  firstValue.hidden = type === "parallel";
  secondValue.hidden = type !== "scatter";
  firstValue.replaceChildren(...(type === "scatter" ? anyOptions() : metricOptions()));
  secondValue.replaceChildren(...anyOptions());
  if (type === "scatter" && secondValue.options.length > 1) secondValue.selectedIndex = secondValue.options.length - 1;
}

async function reloadAll() {
  clearTimeout(pollTimer); // no poll starts while the reload is out; one in flight loses to it
  try {
    if (!(await loadRuns())) return;
    filterError.hidden = true;
  } catch (err) {
    filterError.textContent = err.message;
    filterError.hidden = false;
    state.runs = [];
  }
  if (!state.panels.length && !url.searchParams.has("panel")) {
    state.panels = state.metricKeys.filter((k) => !k.startsWith("system/")).slice(0, 4).map((k) => `line:${k}`);
    syncUrl();
  }
  fillSelectors();
  renderPanels();
  schedulePoll();
}

function redrawAll() {
  for (const m of state.mounted) {
    if (m.panel) { applySettings(m.panel); m.panel.draw(); } else m.redraw();
  }
}

// ---- live updates: new runs and new points while runs are RUNNING ------------------------------
let pollTimer = null;
function schedulePoll() {
  clearTimeout(pollTimer);
  if (state.runs.some((r) => r.status === "RUNNING")) pollTimer = setTimeout(poll, POLL_MS);
}

async function poll() {
  try {
    const before = state.runs.map((r) => r.run_id).join(",");
    if (!(await loadRuns())) return; // a reload overtook this poll and schedules the next
    if (state.runs.map((r) => r.run_id).join(",") !== before) {
      fillSelectors();
      renderPanels();
    } else {
      for (const m of state.mounted) {
        if (m.panel) { applySettings(m.panel); m.panel.load(); } else m.redraw();
      }
    }
  } catch { /* keep the last view; try again */ }
  schedulePoll();
}

// ---- controls ------------------------------------------------------------------------------------
filterInput.value = state.filter;
xMode.value = state.x;
smoothing.value = String(state.smoothing);
smoothingOut.textContent = String(state.smoothing);
logScale.checked = state.log;

document.getElementById("chart-filter").addEventListener("submit", (event) => {
  event.preventDefault();
  state.filter = filterInput.value.trim();
  syncUrl(true);
  reloadAll();
});
xMode.addEventListener("change", () => { state.x = xMode.value; syncUrl(); redrawAll(); });
smoothing.addEventListener("input", () => { state.smoothing = Number(smoothing.value); smoothingOut.textContent = smoothing.value; syncUrl(); redrawAll(); });
logScale.addEventListener("change", () => { state.log = logScale.checked; syncUrl(); redrawAll(); });
groupBy.addEventListener("change", () => { state.group = groupBy.value; syncUrl(true); redrawAll(); });
kind.addEventListener("change", fillSelectors);
document.getElementById("add-panel").addEventListener("submit", (event) => {
  event.preventDefault();
  const type = kind.value;
  const spec = type === "parallel" ? "parallel" : type === "scatter" ? `scatter:${firstValue.value}|${secondValue.value}` : `${type}:${firstValue.value}`;
  if ((type !== "parallel" && !firstValue.value) || state.panels.includes(spec)) return;
  state.panels.push(spec);
  syncUrl(true);
  const mounted = mountPanel(spec);
  if (!mounted) return;
  if (!state.mounted.length) panelsEl.replaceChildren();
  state.mounted.push(mounted);
  panelsEl.append(mounted.section);
  mounted.section.scrollIntoView({ block: "nearest" });
});
window.addEventListener("popstate", () => {
  const now = new URL(window.location.href);
  state.filter = now.searchParams.get("filter") || "";
  state.panels = now.searchParams.getAll("panel");
  state.x = now.searchParams.get("x") || "step";
  state.smoothing = Number(now.searchParams.get("smooth")) || 0;
  state.log = now.searchParams.get("log") === "1";
  state.group = now.searchParams.get("group") || "";
  filterInput.value = state.filter;
  xMode.value = state.x;
  smoothing.value = String(state.smoothing);
  smoothingOut.textContent = String(state.smoothing);
  logScale.checked = state.log;
  groupBy.value = state.group;
  reloadAll();
});

syncUrl();
reloadAll();
