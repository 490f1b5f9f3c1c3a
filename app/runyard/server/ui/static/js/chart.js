// Metric charts drawn as SVG: one metric for one or many runs; x by step, wall time or
// relative time; EMA smoothing; log scale; hover values; drag to zoom, double-click to reset.
import { API, el, fmtNum, fmtTime, getJson, svg } from "./dom.js";

export const COLORS = ["#2f6fed", "#e8590c", "#2b8a3e", "#c2255c", "#7048e8", "#0c8599", "#a61e4d", "#5c940d", "#d9480f", "#1971c2"];
const MARGIN = { top: 12, right: 16, bottom: 30, left: 62 };
const HEIGHT = 320;
const POINTS = 1000;

function niceStep(span, count) {
  const raw = span / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  return (norm >= 5 ? 10 : norm >= 2 ? 5 : norm >= 1 ? 2 : 1) * mag;
}

export function linearTicks(lo, hi, count) {
  if (!(hi > lo)) return [lo];
  const step = niceStep(hi - lo, count);
  const ticks = [];
  for (let i = Math.ceil(lo / step); i * step <= hi + step * 1e-9; i++) ticks.push(Number((i * step).toPrecision(12)));
  return ticks;
}

function logTicks(lo, hi) {
  const ticks = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    const v = 10 ** e;
    if (v >= lo * 0.999 && v <= hi * 1.001) ticks.push(v);
  }
  return ticks.length >= 2 ? ticks : linearTicks(lo, hi, 5);
}

/** TensorBoard-style debiased exponential moving average. */
export function ema(values, weight) {
  if (!(weight > 0)) return values.slice();
  let last = 0;
  let n = 0;
  return values.map((v) => {
    last = last * weight + (1 - weight) * v;
    n += 1;
    return last / (1 - weight ** n);
  });
}

function fmtX(mode, v) {
  if (mode === "wall") return fmtTime(v).slice(11);
  if (mode === "relative") return `${fmtNum(Number(v.toPrecision(4)))}s`;
  return fmtNum(Number.isInteger(v) ? v : Number(v.toPrecision(Math.abs(v) >= 10 ? 6 : 3)));
}

/** Runs grouped by a label: one series per group, the mean with its min-max band (as Aim). */
export function aggregate(series, groups) {
  const byGroup = new Map();
  for (const s of series) {
    const label = groups.get(s.run_id) ?? "(none)";
    if (!byGroup.has(label)) byGroup.set(label, []);
    byGroup.get(label).push(s);
  }
  return [...byGroup.entries()].map(([label, members], i) => {
    const atX = new Map();
    for (const s of members) {
      for (const p of s.pts) {
        if (!atX.has(p.x)) atX.set(p.x, { x: p.x, step: p.step, t: p.t, ys: [], sys: [] });
        const bucket = atX.get(p.x);
        bucket.ys.push(p.y);
        bucket.sys.push(p.sy);
      }
    }
    const mean = (v) => v.reduce((a, b) => a + b, 0) / v.length;
    const pts = [...atX.values()].sort((a, b) => a.x - b.x).map((b) => ({
      x: b.x, step: b.step, t: b.t, y: mean(b.ys), sy: mean(b.sys), lo: Math.min(...b.sys), hi: Math.max(...b.sys), n: b.ys.length,
    }));
    return { run_id: `group:${label}`, run_name: `${label} (${members.length} run${members.length === 1 ? "" : "s"})`, color: COLORS[i % COLORS.length], pts, band: true };
  });
}

export class ChartPanel {
  /**
   * ``controls: false`` leaves metric, axis, smoothing and scale to the caller (a chart view
   * shares them across panels); ``points`` is the most points asked for per series.
   */
  constructor(container, { runIds, metricKeys, key, controls = true, points = POINTS }) {
    this.container = container;
    this.runIds = runIds;
    this.metricKeys = metricKeys;
    this.key = key || metricKeys[0] || "";
    this.withControls = controls;
    this.points = points;
    this.mode = "step";
    this.smoothing = 0;
    this.log = false;
    this.groups = null; // Map run_id -> group label when runs are grouped
    this.domain = null; // [x0, x1] when zoomed
    this.series = [];
    this.loading = 0; // ticket of the latest load: an answer to an earlier one is dropped
    this.build();
  }

  build() {
    if (!this.withControls) {
      this.svg = svg("svg", { class: "chart", role: "img", "aria-label": `Chart of ${this.key}` });
      this.tooltip = el("div", { class: "tooltip", hidden: true });
      this.status = el("p", { class: "muted chart-status", role: "status" });
      this.legend = el("div", { class: "legend" });
      this.container.replaceChildren(el("div", { class: "chart-wrap" }, this.svg, this.tooltip), this.legend, this.status);
      this.bindPointer();
      new ResizeObserver(() => this.draw()).observe(this.container);
      return;
    }
    const select = el("select", { "aria-label": "Metric" }, this.metricKeys.map((k) => el("option", { value: k }, k)));
    select.value = this.key;
    select.addEventListener("change", () => { this.key = select.value; this.domain = null; this.load(); });
    const modeSelect = el("select", { "aria-label": "X axis" },
      el("option", { value: "step" }, "Step"), el("option", { value: "wall" }, "Wall time"), el("option", { value: "relative" }, "Relative time"));
    modeSelect.addEventListener("change", () => { this.mode = modeSelect.value; this.domain = null; this.load(); });
    const smooth = el("input", { type: "range", min: 0, max: 0.99, step: 0.01, value: 0, "aria-label": "Smoothing" });
    const smoothOut = el("output", {}, "0");
    smooth.addEventListener("input", () => { this.smoothing = Number(smooth.value); smoothOut.textContent = smooth.value; this.draw(); });
    const logBox = el("input", { type: "checkbox", "aria-label": "Log scale" });
    logBox.addEventListener("change", () => { this.log = logBox.checked; this.draw(); });
    const reset = el("button", { type: "button", class: "btn small" }, "Reset zoom");
    reset.addEventListener("click", () => this.resetZoom());
    this.select = select;
    this.controls = el("div", { class: "chart-controls" },
      el("label", {}, "Metric", select), el("label", {}, "X", modeSelect),
      el("label", {}, "Smoothing", smooth, smoothOut), el("label", {}, logBox, "Log scale"), reset);
    this.svg = svg("svg", { class: "chart", role: "img", "aria-label": "Metric chart" });
    this.tooltip = el("div", { class: "tooltip", hidden: true });
    this.status = el("p", { class: "muted chart-status", role: "status" });
    this.legend = el("div", { class: "legend" });
    this.container.replaceChildren(this.controls, el("div", { class: "chart-wrap" }, this.svg, this.tooltip), this.legend, this.status);
    this.bindPointer();
    new ResizeObserver(() => this.draw()).observe(this.container);
  }

  setKey(key) {
    if (!this.select) { this.key = key; this.domain = null; return this.load(); }
    if (!this.metricKeys.includes(key)) {
      this.metricKeys.push(key);
      this.select.append(el("option", { value: key }, key));
    }
    this.key = key;
    this.select.value = key;
    this.domain = null;
    return this.load();
  }

  resetZoom() {
    if (this.domain) { this.domain = null; this.load(); }
  }

  /** Fetches the current metric; only the latest request's answer is drawn, whatever order they arrive in. */
  async load() {
    const ticket = ++this.loading;
    if (!this.key) { this.status.textContent = "No metrics to chart."; return; }
    const params = { run_ids: this.runIds, metric_key: this.key, max_results: this.points };
    if (this.domain && this.mode === "step") {
      params.start_step = Math.floor(this.domain[0]);
      params.end_step = Math.ceil(this.domain[1]);
    }
    try {
      const data = await getJson(`${API}/chart`, params);
      if (ticket !== this.loading) return;
      this.series = data.series;
      this.status.textContent = "";
      this.draw();
    } catch (err) {
      if (ticket === this.loading) this.status.textContent = err.message;
    }
  }

  xOf(point, first) {
    if (this.mode === "wall") return point[1];
    if (this.mode === "relative") return (point[1] - first) / 1000;
    return point[0];
  }

  prepared() {
    const base = this.series.map((s, i) => {
      const pts = s.points.filter((p) => typeof p[2] === "number" && (!this.log || p[2] > 0));
      const first = s.points.length ? Math.min(...s.points.map((p) => p[1])) : 0;
      const ordered = pts.map((p) => ({ x: this.xOf(p, first), y: p[2], step: p[0], t: p[1] })).sort((a, b) => a.x - b.x);
      const smooth = ema(ordered.map((p) => p.y), this.smoothing);
      ordered.forEach((p, j) => { p.sy = smooth[j]; });
      const visible = this.domain ? ordered.filter((p) => p.x >= this.domain[0] && p.x <= this.domain[1]) : ordered;
      return { ...s, color: COLORS[i % COLORS.length], pts: visible };
    });
    return this.groups ? aggregate(base, this.groups) : base;
  }

  draw() {
    const width = Math.max(320, this.container.clientWidth || 640);
    this.svg.setAttribute("viewBox", `0 0 ${width} ${HEIGHT}`);
    this.svg.setAttribute("height", HEIGHT);
    const series = this.prepared();
    this.drawn = series;
    const all = series.flatMap((s) => s.pts);
    const total = all.length;
    this.svg.dataset.points = String(total);
    this.svg.dataset.metric = this.key;
    this.svg.replaceChildren();
    this.legend.replaceChildren(...series.map((s) =>
      el("span", { dataset: { runId: s.run_id } }, el("span", { class: "sw", style: `background:${s.color}` }), s.run_name, el("span", { class: "muted" }, ` (${s.pts.length})`))));
    if (!total) {
      this.svg.append(svg("text", { x: width / 2, y: HEIGHT / 2, "text-anchor": "middle", class: "muted", fill: "currentColor" }, document.createTextNode("No data")));
      return;
    }
    let [x0, x1] = this.domain || [Math.min(...all.map((p) => p.x)), Math.max(...all.map((p) => p.x))];
    if (x0 === x1) { x0 -= 1; x1 += 1; }
    const ys = all.flatMap((p) => (p.lo === undefined ? [p.y, p.sy] : [p.y, p.sy, p.lo, p.hi])).filter((v) => !this.log || v > 0);
    let y0 = Math.min(...ys);
    let y1 = Math.max(...ys);
    if (y0 === y1) { y0 = this.log ? y0 / 2 : y0 - 1; y1 = this.log ? y1 * 2 : y1 + 1; }
    const pad = this.log ? 1 : (y1 - y0) * 0.05;
    if (!this.log) { y0 -= pad; y1 += pad; }
    const iw = width - MARGIN.left - MARGIN.right;
    const ih = HEIGHT - MARGIN.top - MARGIN.bottom;
    const sx = (x) => MARGIN.left + ((x - x0) / (x1 - x0)) * iw;
    const ly = (y) => (this.log ? Math.log10(y) : y);
    const sy = (y) => MARGIN.top + ih - ((ly(y) - ly(y0)) / (ly(y1) - ly(y0))) * ih;
    this.scale = { sx, sy, x0, x1, iw, ih };

    const axis = svg("g", { class: "axis" });
    for (const t of this.log ? logTicks(y0, y1) : linearTicks(y0, y1, 5)) {
      const y = sy(t);
      axis.append(svg("line", { class: "grid-line", x1: MARGIN.left, x2: width - MARGIN.right, y1: y, y2: y }));
      axis.append(svg("text", { x: MARGIN.left - 6, y: y + 4, "text-anchor": "end" }, document.createTextNode(fmtNum(t))));
    }
    const xticks = this.mode === "wall" ? linearTicks(x0, x1, 5) : linearTicks(x0, x1, Math.max(2, Math.floor(iw / 90)));
    for (const t of xticks) {
      const x = sx(t);
      axis.append(svg("line", { x1: x, x2: x, y1: MARGIN.top + ih, y2: MARGIN.top + ih + 4 }));
      axis.append(svg("text", { x, y: HEIGHT - 10, "text-anchor": "middle" }, document.createTextNode(fmtX(this.mode, t))));
    }
    axis.append(svg("line", { x1: MARGIN.left, x2: width - MARGIN.right, y1: MARGIN.top + ih, y2: MARGIN.top + ih }));
    this.svg.append(axis);

    const clipId = `clip-${Math.random().toString(36).slice(2)}`;
    this.svg.append(svg("clipPath", { id: clipId }, svg("rect", { x: MARGIN.left, y: MARGIN.top, width: iw, height: ih })));
    const lines = svg("g", { "clip-path": `url(#${clipId})` });
    const path = (pts, field) => pts.map((p, j) => `${j ? "L" : "M"}${sx(p.x).toFixed(1)},${sy(p[field]).toFixed(1)}`).join("");
    for (const s of series) {
      if (!s.pts.length) continue;
      if (s.band) {
        const upper = s.pts.map((p, j) => `${j ? "L" : "M"}${sx(p.x).toFixed(1)},${sy(p.hi).toFixed(1)}`).join("");
        const lower = s.pts.slice().reverse().map((p) => `L${sx(p.x).toFixed(1)},${sy(p.lo).toFixed(1)}`).join("");
        lines.append(svg("path", { class: "band", d: `${upper}${lower}Z`, fill: s.color, "data-group": s.run_name }));
      }
      if (this.smoothing > 0) lines.append(svg("path", { class: "series raw", d: path(s.pts, "y"), stroke: s.color }));
      lines.append(svg("path", { class: "series", d: path(s.pts, this.smoothing > 0 ? "sy" : "y"), stroke: s.color, "data-run-id": s.run_id, "data-count": s.pts.length }));
      if (s.pts.length === 1) lines.append(svg("circle", { cx: sx(s.pts[0].x), cy: sy(s.pts[0].y), r: 3, fill: s.color }));
    }
    this.svg.append(lines);
    this.overlay = svg("g");
    this.svg.append(this.overlay);
  }

  toSvgX(event) {
    const rect = this.svg.getBoundingClientRect();
    const vb = this.svg.viewBox.baseVal;
    return ((event.clientX - rect.left) / rect.width) * vb.width;
  }

  xValue(px) {
    const { x0, x1, iw } = this.scale;
    return x0 + ((px - MARGIN.left) / iw) * (x1 - x0);
  }

  bindPointer() {
    let dragFrom = null;
    let box = null;
    this.svg.addEventListener("pointerdown", (event) => {
      if (!this.scale || event.button !== 0) return;
      dragFrom = this.toSvgX(event);
      box = svg("rect", { class: "zoom-box", x: dragFrom, y: MARGIN.top, width: 0, height: this.scale.ih });
      this.svg.append(box);
      this.svg.setPointerCapture(event.pointerId);
    });
    this.svg.addEventListener("pointermove", (event) => {
      if (!this.scale) return;
      const px = this.toSvgX(event);
      if (dragFrom !== null && box) {
        box.setAttribute("x", Math.min(dragFrom, px));
        box.setAttribute("width", Math.abs(px - dragFrom));
      }
      this.hover(px, event);
    });
    this.svg.addEventListener("pointerup", (event) => {
      if (dragFrom === null) return;
      const px = this.toSvgX(event);
      if (box) box.remove();
      const [a, b] = [Math.min(dragFrom, px), Math.max(dragFrom, px)];
      dragFrom = null;
      box = null;
      if (b - a > 5) {
        this.domain = [this.xValue(a), this.xValue(b)];
        if (this.mode === "step") this.load(); else this.draw();
      }
    });
    this.svg.addEventListener("pointerleave", () => this.hideHover());
    // Keyboard: the chart takes focus; arrows step the cursor through the points, Escape hides it.
    this.svg.setAttribute("tabindex", "0");
    this.svg.addEventListener("keydown", (event) => this.onKey(event));
    this.svg.addEventListener("blur", () => this.hideHover());
    this.svg.addEventListener("dblclick", () => this.resetZoom());
  }

  hideHover() {
    this.tooltip.hidden = true;
    if (this.overlay) this.overlay.replaceChildren();
    this.cursor = null;
  }

  onKey(event) {
    if (event.key === "Escape") { this.hideHover(); return; }
    if (!["ArrowLeft", "ArrowRight", "Home", "End"].includes(event.key) || !this.drawn || !this.scale) return;
    const xs = [...new Set(this.drawn.flatMap((s) => s.pts.map((p) => p.x)))].sort((a, b) => a - b);
    if (!xs.length) return;
    event.preventDefault();
    let i = this.cursor === null || this.cursor === undefined ? (event.key === "ArrowLeft" ? xs.length : -1) : xs.indexOf(this.cursor);
    if (event.key === "Home") i = 0;
    else if (event.key === "End") i = xs.length - 1;
    else i = Math.max(0, Math.min(xs.length - 1, i + (event.key === "ArrowRight" ? 1 : -1)));
    this.cursor = xs[i];
    const rect = this.svg.getBoundingClientRect();
    const px = this.scale.sx(this.cursor);
    const vb = this.svg.viewBox.baseVal;
    const clientX = rect.left + (px / vb.width) * rect.width;
    this.hover(px, { clientX, clientY: rect.top + rect.height / 3 });
    this.svg.dataset.cursor = String(this.cursor);
    this.status.textContent = [...this.tooltip.children].map((c) => c.textContent).join("; ");
  }

  hover(px, event) {
    if (!this.drawn || !this.overlay) return;
    const xv = this.xValue(px);
    const { sx, sy, ih } = this.scale;
    const rows = [];
    const marks = [];
    for (const s of this.drawn) {
      if (!s.pts.length) continue;
      let lo = 0;
      let hi = s.pts.length - 1;
      while (lo < hi) { const mid = (lo + hi) >> 1; if (s.pts[mid].x < xv) lo = mid + 1; else hi = mid; }
      let p = s.pts[lo];
      if (lo > 0 && Math.abs(s.pts[lo - 1].x - xv) < Math.abs(p.x - xv)) p = s.pts[lo - 1];
      const yv = this.smoothing > 0 ? p.sy : p.y;
      marks.push(svg("circle", { class: "hover-dot", cx: sx(p.x), cy: sy(yv), r: 4, fill: s.color }));
      rows.push(el("div", {}, el("span", { class: "sw", style: `background:${s.color}` }), `${s.run_name}: `, el("strong", {}, fmtNum(yv)), el("span", { class: "muted" }, ` step ${p.step}`)));
    }
    const x = Math.max(MARGIN.left, Math.min(px, MARGIN.left + this.scale.iw));
    this.overlay.replaceChildren(svg("line", { class: "hover-line", x1: x, x2: x, y1: MARGIN.top, y2: MARGIN.top + ih }), ...marks);
    this.tooltip.replaceChildren(el("div", { class: "muted" }, `${this.mode === "step" ? "step" : "x"} ${fmtX(this.mode, xv)}`), ...rows);
    this.tooltip.hidden = false;
    const wrap = this.svg.parentElement.getBoundingClientRect();
    const left = event.clientX - wrap.left + 14;
    this.tooltip.style.left = `${Math.min(left, wrap.width - this.tooltip.offsetWidth - 4)}px`;
    this.tooltip.style.top = `${event.clientY - wrap.top + 10}px`;
  }
}

/** Mount a chart panel on a section carrying data-run-ids and data-metric-keys. */
export function mountChart(card) {
  const runIds = card.dataset.runIds.split(",").filter(Boolean);
  const keys = card.dataset.metricKeys ? card.dataset.metricKeys.split("\n").filter(Boolean) : [];
  const panel = new ChartPanel(card.querySelector(".chart-panel"), { runIds, metricKeys: keys });
  panel.load();
  return panel;
}
