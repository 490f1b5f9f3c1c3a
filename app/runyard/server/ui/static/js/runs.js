// Runs table: server-side filter, sort and paging (page tokens); only the current page is in
// the DOM. State lives in the URL so a reload or a shared link shows the same table.
import { API, el, fmtDuration, fmtNum, fmtTime, getJson, statusPill } from "./dom.js";
import { NOTE_TAG, mlflowPost, mountDescription } from "./edit.js";

const root = document.getElementById("runs");
const experimentId = root.dataset.experimentId;
const table = document.getElementById("runs-table");
const thead = table.querySelector("thead");
const tbody = table.querySelector("tbody");
const colgroup = table.insertBefore(el("colgroup"), thead);
const filterInput = document.getElementById("filter");
const filterError = document.getElementById("filter-error");
const pageInfo = document.getElementById("page-info");
const wrap = document.getElementById("runs-wrap");
const compareButton = document.getElementById("compare-button");
const exportLink = document.getElementById("export-link");
const minmaxBox = document.getElementById("minmax");
const pageSizeSelect = document.getElementById("page-size");
const columnsButton = document.getElementById("columns-button");
const columnsPanel = document.getElementById("columns-panel");
const viewSelect = document.getElementById("run-view");
const deleteButton = document.getElementById("delete-button");
const restoreButton = document.getElementById("restore-button");
const runsMessage = document.getElementById("runs-message");

const state = {
  filter: "",
  orderBy: "",
  pageSize: 100,
  minmax: false,
  view: "active",
  hidden: new Set(),
  shown: new Set(),
  runs: [], // every run fetched so far, in the server's order
  nextToken: null, // the page token of the next runs, or null when all are here
  loaded: false,
  fetchingMore: false,
  flat: [], // the rows shown: runs in tree order, children of open parents only
  window: null, // [first, last) of state.flat in the DOM
  rowHeight: 30,
  attributes: [],
  keys: { params: new Set(), metrics: new Set(), tags: new Set() },
  selected: new Set(),
  expanded: new Set(),
  loading: 0,
};

/** The view a URL describes: a shared link or the back button shows the same table. */
function readUrl() {
  const q = new URL(window.location.href).searchParams;
  state.filter = q.get("filter") || "";
  state.orderBy = q.get("order_by") || "";
  state.pageSize = Number(q.get("max_results")) || 100;
  state.minmax = q.get("minmax") === "1";
  state.view = ["deleted", "all"].includes(q.get("view")) ? q.get("view") : "active";
  // Params and metrics show unless hidden; tags (often many system tags) hide unless shown.
  state.hidden = new Set(q.getAll("hide"));
  state.shown = new Set(q.getAll("show"));
  state.selected = new Set(q.getAll("select"));
  // Parent runs whose children are shown (nested runs start collapsed).
  state.expanded = new Set(q.getAll("expand"));
  filterInput.value = state.filter;
  minmaxBox.checked = state.minmax;
  pageSizeSelect.value = String(state.pageSize);
  viewSelect.value = state.view;
}
readUrl();

function quoteKey(key) {
  return "`" + key.replaceAll("`", "``") + "`";
}

function columnId(group, key) {
  return `${group}.${key}`;
}

/** Every column the table can show, in order: attributes, then params, metrics, tags. */
function allColumns() {
  const cols = state.attributes.map((a) => ({ id: a.id, label: a.label, group: "attributes", orderBy: a.order_by }));
  for (const group of ["params", "metrics", "tags"]) {
    const prefix = group === "params" ? "params" : group === "metrics" ? "metrics" : "tags";
    for (const key of [...state.keys[group]].sort()) {
      cols.push({ id: columnId(group, key), label: key, key, group, orderBy: `${prefix}.${quoteKey(key)}` });
    }
  }
  return cols;
}

function isVisible(col) {
  return col.group === "tags" ? state.shown.has(col.id) : !state.hidden.has(col.id);
}

function visibleColumns() {
  return allColumns().filter(isVisible);
}

/** Put the view in the URL: a new history entry for what changes the rows (filter, sort,
 * view, page size), the same entry for the rest (columns, selection, folding). */
function syncUrl(push = false) {
  const next = new URL(window.location.href);
  next.search = "";
  if (state.filter) next.searchParams.set("filter", state.filter);
  if (state.orderBy) next.searchParams.set("order_by", state.orderBy);
  if (state.pageSize !== 100) next.searchParams.set("max_results", state.pageSize);
  if (state.minmax) next.searchParams.set("minmax", "1");
  if (state.view !== "active") next.searchParams.set("view", state.view);
  for (const h of state.hidden) next.searchParams.append("hide", h);
  for (const s of state.shown) next.searchParams.append("show", s);
  for (const e of state.expanded) next.searchParams.append("expand", e);
  for (const r of state.selected) next.searchParams.append("select", r);
  if (next.href !== window.location.href) window.history[push ? "pushState" : "replaceState"](null, "", next);
  updateExportLink();
  const charts = document.getElementById("charts-tab");
  if (charts) charts.href = `/experiments/${encodeURIComponent(experimentId)}/charts${state.filter ? `?${new URLSearchParams({ filter: state.filter })}` : ""}`;
}

function updateExportLink() {
  const query = new URLSearchParams({ experiment_id: experimentId });
  if (state.filter) query.set("filter", state.filter);
  if (state.orderBy) query.set("order_by", state.orderBy);
  for (const col of visibleColumns()) query.append("columns", col.id);
  exportLink.href = `${API}/runs/export.csv?${query}`;
}

function currentSort() {
  const match = /^(.*?)(?:\s+(ASC|DESC))?$/i.exec(state.orderBy.trim());
  return match && state.orderBy ? { clause: match[1], dir: (match[2] || "ASC").toUpperCase() } : null;
}

function onSort(col) {
  const sort = currentSort();
  let dir = col.group === "metrics" || col.id === "start_time" ? "DESC" : "ASC";
  if (sort && sort.clause === col.orderBy) dir = sort.dir === "ASC" ? "DESC" : "ASC";
  state.orderBy = `${col.orderBy} ${dir}`;
  reload();
}

const GROUP_TITLES = { attributes: "", params: "Parameters", metrics: "Metrics", tags: "Tags" };

function headerCell(col) {
  const sort = currentSort();
  const numeric = col.group === "metrics" || col.id === "duration";
  const title = col.group === "attributes" ? null : `${col.group}.${col.label}`;
  const th = el("th", { scope: "col", class: `group-${col.group}${numeric ? " num" : ""}`, title, dataset: { column: col.id } });
  if (!col.orderBy) {
    th.textContent = col.label;
    return th;
  }
  const active = sort && sort.clause === col.orderBy;
  const button = el("button", { type: "button", class: "sort", "aria-sort-dir": active ? sort.dir : null, title }, el("span", { class: "label" }, col.label));
  button.addEventListener("click", () => onSort(col));
  if (active) th.setAttribute("aria-sort", sort.dir === "ASC" ? "ascending" : "descending");
  th.append(button);
  return th;
}

/** One header cell per run of same-group columns: "Parameters (3)", "Metrics (5)", .... */
function groupRow(cols) {
  const spans = [];
  for (const col of cols) {
    const last = spans[spans.length - 1];
    if (last && last.group === col.group) last.count += 1;
    else spans.push({ group: col.group, count: 1 });
  }
  const cells = spans.map(({ group, count }) => {
    const label = GROUP_TITLES[group];
    return el("th", { scope: "colgroup", colspan: group === "attributes" ? count + 1 : count, class: `group-head group-${group}` },
      label ? `${label} (${count})` : "");
  });
  if (!spans.length || spans[0].group !== "attributes") cells.unshift(el("th", { class: "group-head" }));
  return el("tr", { class: "groups" }, cells);
}

function renderHead(cols) {
  const selectAll = el("input", { type: "checkbox", "aria-label": "Select all runs shown" });
  selectAll.addEventListener("change", () => {
    for (const row of state.flat) {
      if (selectAll.checked) state.selected.add(row.run.run_id);
      else state.selected.delete(row.run.run_id);
    }
    for (const box of tbody.querySelectorAll("tr[data-run-id] input[type=checkbox]")) {
      box.checked = selectAll.checked;
      box.closest("tr").classList.toggle("selected", box.checked);
    }
    selectionChanged();
  });
  thead.replaceChildren(groupRow(cols), el("tr", { class: "column-heads" }, el("th", { class: "sel" }, selectAll), cols.map(headerCell)));
}

function emptyCell(numeric) {
  return el("td", { class: `${numeric ? "num " : ""}empty-cell`, "aria-label": "no value" }, "—");
}

function nameCell(run, depth, children) {
  const td = el("td", { class: "name", style: depth ? `padding-left:${0.6 + depth * 1.3}rem` : null });
  if (children) {
    const open = state.expanded.has(run.run_id);
    const toggle = el("button", {
      type: "button", class: "tree-toggle", "aria-expanded": String(open),
      "aria-label": `${open ? "Collapse" : "Expand"} ${children} child runs of ${run.run_name || run.run_id}`,
      title: `${children} child run${children === 1 ? "" : "s"}`,
    }, el("span", { class: "chev", "aria-hidden": "true" }, open ? "▾" : "▸"), el("span", { class: "count" }, String(children)));
    toggle.addEventListener("click", () => {
      if (state.expanded.has(run.run_id)) state.expanded.delete(run.run_id);
      else state.expanded.add(run.run_id);
      syncUrl();
      render();
      tbody.querySelector(`tr[data-run-id="${CSS.escape(run.run_id)}"] .tree-toggle`)?.focus();
    });
    td.append(toggle);
  } else if (depth) {
    td.append(el("span", { class: "tree-leaf", "aria-hidden": "true" }, "└"));
  }
  const name = run.run_name || run.run_id;
  td.append(el("a", { href: `/runs/${encodeURIComponent(run.run_id)}`, title: name }, name));
  return td;
}

function cellFor(run, col, depth = 0, children = 0) {
  if (col.group === "attributes") {
    switch (col.id) {
      case "run_name": return nameCell(run, depth, children);
      case "status": return el("td", {}, statusPill(run.status));
      case "start_time": return el("td", {}, fmtTime(run.start_time));
      case "duration": return el("td", { class: "num" }, fmtDuration(run.duration));
      default: return run[col.id] ? el("td", { title: run[col.id] }, run[col.id]) : emptyCell(false);
    }
  }
  if (col.group === "metrics") {
    const m = run.metrics[col.key];
    if (!m) return emptyCell(true);
    // A cell is [latest, step] or [latest, step, min, max, count] (see ui_data.metric_cell).
    const td = el("td", { class: "num", title: `${col.key} at step ${m[1]}` }, fmtNum(m[0]));
    if (state.minmax && m.length > 2) td.append(el("span", { class: "minmax" }, `${fmtNum(m[2])} – ${fmtNum(m[3])}`));
    return td;
  }
  const value = run[col.group][col.key];
  if (value === undefined || value === null || value === "") return emptyCell(false);
  return el("td", { class: "mono", title: value }, value);
}

/** Runs as a tree: a run whose parent is on this page is listed under it (nested runs). */
function runTree(runs) {
  const ids = new Set(runs.map((r) => r.run_id));
  const children = new Map();
  const top = [];
  for (const run of runs) {
    const parent = run.parent_run_id;
    if (parent && parent !== run.run_id && ids.has(parent)) {
      if (!children.has(parent)) children.set(parent, []);
      children.get(parent).push(run);
    } else {
      top.push(run);
    }
  }
  return { top, children };
}

function toggleRun(tr, on) {
  if (on) state.selected.add(tr.dataset.runId);
  else state.selected.delete(tr.dataset.runId);
  tr.classList.toggle("selected", on);
  selectionChanged();
}

function selectionChanged() {
  syncUrl();
  compareButton.disabled = state.selected.size < 2;
  compareButton.textContent = state.selected.size >= 2 ? `Compare (${state.selected.size})` : "Compare";
  updateBulkButtons();
}

function runRow(run, cols, depth, children) {
  const box = el("input", { type: "checkbox", "aria-label": `Select run ${run.run_name}` });
  box.checked = state.selected.has(run.run_id);
  const deleted = run.lifecycle_stage === "deleted";
  const classes = [box.checked ? "selected" : "", depth ? "child" : "", deleted ? "deleted" : ""].filter(Boolean).join(" ");
  const tr = el("tr", { dataset: { runId: run.run_id, depth: String(depth), stage: run.lifecycle_stage }, class: classes || null },
    el("td", { class: "sel" }, box), cols.map((col) => cellFor(run, col, depth, children)));
  box.addEventListener("change", () => toggleRun(tr, box.checked));
  return tr;
}

/** The rows to show, in order: parents, then their children when open (any depth). */
function flatten(runs) {
  const { top, children } = runTree(runs);
  const rows = [];
  const seen = new Set();
  const add = (run, depth) => {
    if (seen.has(run.run_id)) return;
    seen.add(run.run_id);
    const kids = children.get(run.run_id) || [];
    rows.push({ run, depth, children: kids.length });
    if (kids.length && state.expanded.has(run.run_id)) kids.forEach((kid) => add(kid, depth + 1));
  };
  top.forEach((run) => add(run, 0));
  return rows;
}

/** Rows kept in the DOM above and below the visible ones. */
const BUFFER = 20;
/** Fetch the next runs when the rows in the DOM come this close to the last run fetched. */
const PREFETCH = 40;

function spacer(height, cols) {
  return el("tr", { class: "spacer", "aria-hidden": "true" }, el("td", { colspan: cols.length + 1, style: `height:${height}px;padding:0;border:0` }));
}

/** Only the rows in view (and a buffer) are in the DOM; spacers stand for the rest, so a
 * table of many thousands of runs scrolls as lightly as one of fifty. As it scrolls, rows that
 * leave the window are removed and those that enter it added, while the rest stay as they are:
 * each frame lays out a few rows, not the whole window. */
function renderWindow(force = false, measure = true) {
  const cols = visibleColumns();
  const total = state.flat.length;
  if (!total) {
    tbody.replaceChildren(el("tr", {}, el("td", { colspan: cols.length + 1, class: "empty" }, state.loaded ? "No runs match." : "")));
    state.window = null;
    return;
  }
  const head = thead.offsetHeight;
  const top = Math.max(0, wrap.scrollTop - head);
  const visible = Math.ceil((wrap.clientHeight || 600) / state.rowHeight);
  const shownFirst = Math.min(Math.floor(top / state.rowHeight), Math.max(0, total - visible));
  const first = Math.max(0, shownFirst - BUFFER);
  const last = Math.min(total, shownFirst + visible + BUFFER);
  const old = state.window;
  const shownLast = Math.min(total, shownFirst + visible);
  if (!force && old && first < old[1] && last > old[0]) {
    // Each change repaints the table, so move only when the rows in view near an edge.
    const nearEdge = (shownFirst - old[0] < BUFFER / 2 && old[0] > 0) ||
      (old[1] - shownLast < BUFFER / 2 && old[1] < total) || last > old[1] && old[1] === shownLast;
    if (nearEdge || old[1] > total) slideWindow(old, first, last, cols);
    // Runs fetched below the window only lengthen the spacer that stands for them.
    else tbody.lastElementChild.firstChild.style.height = `${(total - old[1]) * state.rowHeight}px`;
  } else {
    rebuildWindow(first, last, cols, measure);
  }
  if (last + PREFETCH >= total) loadMore();
}

function rowAt(index, cols) {
  const { run, depth, children } = state.flat[index];
  return runRow(run, cols, depth, children);
}

function range(from, to) {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}

/** Move the window from rows ``old`` to [first, last), keeping the rows both hold. */
function slideWindow(old, first, last, cols) {
  const [topSpacer, ...rest] = tbody.children;
  const bottomSpacer = rest.pop();
  rest.slice(0, Math.max(0, first - old[0])).forEach((tr) => tr.remove());
  rest.slice(Math.max(0, last - old[0])).forEach((tr) => tr.remove());
  topSpacer.after(...range(first, Math.min(old[0], last)).map((i) => rowAt(i, cols)));
  bottomSpacer.before(...range(Math.max(old[1], first), last).map((i) => rowAt(i, cols)));
  topSpacer.firstChild.style.height = `${first * state.rowHeight}px`;
  bottomSpacer.firstChild.style.height = `${(state.flat.length - last) * state.rowHeight}px`;
  state.window = [first, last];
}

/** Draw the window [first, last) afresh, keeping the focus on the cell that had it. */
function rebuildWindow(first, last, cols, measure) {
  const total = state.flat.length;
  const focused = tbody.contains(document.activeElement) ? document.activeElement : null;
  const focusAt = focused && focused.closest("tr[data-run-id]")
    ? [focused.closest("tr").dataset.runId, focused.closest("td").cellIndex] : null;
  const rows = range(first, last).map((i) => rowAt(i, cols));
  tbody.replaceChildren(spacer(first * state.rowHeight, cols), ...rows, spacer((total - last) * state.rowHeight, cols));
  state.window = [first, last];
  if (measure && rows.length) {
    // Spacers stand for rows of the measured height; re-draw once if the guess was off.
    const measured = rows.reduce((sum, tr) => sum + tr.getBoundingClientRect().height, 0) / rows.length;
    const off = measured > 0 && Math.abs(measured - state.rowHeight) > 2;
    if (measured > 0) state.rowHeight = measured;
    if (off) { renderWindow(true, false); return; }
  }
  if (focusAt) {
    const row = tbody.querySelector(`tr[data-run-id="${CSS.escape(focusAt[0])}"]`);
    row?.cells[focusAt[1]]?.querySelector("a, input, button")?.focus({ preventScroll: true });
  }
}

/** Whether ``rows`` begins with ``before``, row for row (runs appended, none moved under a
 * parent), so the rows in the DOM still stand where they are. */
function extends_(rows, before) {
  return before.every((row, i) => rows[i].run === row.run && rows[i].depth === row.depth &&
    rows[i].children === row.children);
}

/** Auto layout sizes the columns to the rows first shown; the widths are then kept and the
 * table switches to fixed layout, so scrolling lays out only the rows that change instead of
 * re-measuring every cell of the table (and columns no longer jump as other rows come in). */
function thawColumns() {
  table.classList.remove("fixed-columns");
  table.style.width = "";
  colgroup.replaceChildren();
}

function freezeColumns() {
  const heads = [...thead.querySelectorAll("tr.column-heads th")];
  if (!tbody.querySelector("tr[data-run-id]") || !heads.length) return;
  const widths = heads.map((th) => th.getBoundingClientRect().width);
  colgroup.replaceChildren(...widths.map((w) => el("col", { style: `width:${w}px` })));
  table.style.width = `${widths.reduce((a, b) => a + b, 0)}px`;
  table.classList.add("fixed-columns");
}

/** The column ids the frozen widths were measured for. */
let frozenFor = null;

/** Draw the table. ``keepWidths`` (a live refresh) keeps the frozen column widths when the
 * columns are the same: re-measuring them would size them to whatever rows the window shows
 * at that moment, and the columns would jump under a user who scrolled. */
function render({ keepWidths = false } = {}) {
  if (!state.loaded) return;
  const cols = visibleColumns();
  const ids = cols.map((c) => c.id).join("\n");
  const keep = keepWidths && ids === frozenFor && table.classList.contains("fixed-columns");
  if (!keep) thawColumns();
  renderHead(cols);
  state.flat = flatten(state.runs);
  renderWindow(true);
  if (!keep) {
    freezeColumns();
    frozenFor = table.classList.contains("fixed-columns") ? ids : null;
  }
  renderColumnsPanel();
  updateExportLink();
  showPageInfo();
}

function showPageInfo() {
  const count = state.runs.length;
  const folded = count - state.flat.length;
  pageInfo.textContent = count
    ? `${count} run${count === 1 ? "" : "s"}${state.nextToken ? " loaded · scroll for more" : ""}` +
      (folded ? ` · ${folded} nested under collapsed parents` : "")
    : "No runs";
}

function addKeys(data) {
  state.attributes = data.columns;
  data.param_keys.forEach((k) => state.keys.params.add(k));
  data.metric_keys.forEach((k) => state.keys.metrics.add(k));
  data.tag_keys.forEach((k) => state.keys.tags.add(k));
}

/** The first runs for the current filter and sort (a new query starts from the top). */
async function load() {
  const ticket = ++state.loading;
  table.setAttribute("aria-busy", "true");
  pageInfo.textContent = "Loading…";
  try {
    const data = await getJson(`${API}/runs`, pageRequest(null));
    if (ticket !== state.loading) return;
    filterError.hidden = true;
    addKeys(data);
    state.runs = data.runs;
    state.nextToken = data.next_page_token;
    state.loaded = true;
    wrap.scrollTop = 0;
    render();
    liveKey = ticket;
    scheduleLive();
  } catch (err) {
    if (ticket !== state.loading) return;
    showFilterError(err.message);
    state.runs = [];
    state.nextToken = null;
    state.flat = [];
    tbody.replaceChildren();
    pageInfo.textContent = "Fix the filter to see runs.";
  } finally {
    if (ticket === state.loading) table.setAttribute("aria-busy", "false");
  }
}

/** The next runs, appended as the user scrolls towards the end of those fetched. */
async function loadMore() {
  if (!state.nextToken || state.fetchingMore) return;
  state.fetchingMore = true;
  const ticket = state.loading;
  try {
    const data = await getJson(`${API}/runs`, pageRequest(state.nextToken));
    if (ticket !== state.loading) return;
    const before = state.keys.params.size + state.keys.metrics.size + state.keys.tags.size;
    addKeys(data);
    state.runs = state.runs.concat(data.runs);
    state.nextToken = data.next_page_token;
    const shown = state.flat;
    state.flat = flatten(state.runs);
    if (state.keys.params.size + state.keys.metrics.size + state.keys.tags.size !== before) render();
    else { renderWindow(!extends_(state.flat, shown)); showPageInfo(); }
  } catch (err) {
    pageInfo.textContent = err.message;
  } finally {
    state.fetchingMore = false;
  }
}

let scrollFrame = 0;
wrap.addEventListener("scroll", () => {
  if (scrollFrame) return;
  scrollFrame = requestAnimationFrame(() => { scrollFrame = 0; renderWindow(); });
}, { passive: true });

/** The server's message, and under the filter text a caret at the column it names. */
function showFilterError(message) {
  const parts = [el("div", {}, message)];
  const match = /at column (\d+)/.exec(message);
  if (match && state.filter) {
    const column = Math.min(Number(match[1]), state.filter.length + 1);
    parts.push(el("div", { class: "caret-line", "aria-hidden": "true" }, state.filter, "\n", " ".repeat(column - 1) + "^"));
    filterInput.focus();
    filterInput.setSelectionRange(column - 1, state.filter.length);
  }
  filterError.replaceChildren(...parts);
  filterError.hidden = false;
}

function reload() {
  syncUrl(true);
  load();
}

window.addEventListener("popstate", () => {
  readUrl();
  selectionChanged();
  load();
});

function setVisible(col, on) {
  if (col.group === "tags") state.shown[on ? "add" : "delete"](col.id);
  else state.hidden[on ? "delete" : "add"](col.id);
}

/** One section per group, each scrolling on its own, so no group is cut off by another. */
function renderColumnsPanel() {
  if (columnsPanel.hidden) return;
  const titles = { attributes: "Attributes", params: "Parameters", metrics: "Metrics", tags: "Tags" };
  const sections = [];
  for (const group of ["attributes", "params", "metrics", "tags"]) {
    const cols = allColumns().filter((c) => c.group === group);
    if (!cols.length) continue;
    const id = `columns-${group}`;
    const all = el("button", { type: "button", class: "btn small" }, "All");
    const none = el("button", { type: "button", class: "btn small" }, "None");
    const bulk = (on) => { cols.forEach((col) => setVisible(col, on)); syncUrl(); render(); };
    all.addEventListener("click", () => bulk(true));
    none.addEventListener("click", () => bulk(false));
    const list = el("div", { class: "column-list", role: "group", "aria-labelledby": id },
      cols.map((col) => {
        const box = el("input", { type: "checkbox", dataset: { column: col.id } });
        box.checked = isVisible(col);
        box.addEventListener("change", () => { setVisible(col, box.checked); syncUrl(); render(); });
        return el("label", { title: col.label }, box, el("span", { class: "label" }, col.label));
      }));
    sections.push(el("section", { class: "column-group", dataset: { group } },
      el("div", { class: "column-group-head" }, el("h3", { id }, `${titles[group]} (${cols.length})`), all, none), list));
  }
  columnsPanel.replaceChildren(...sections);
}

columnsButton.addEventListener("click", () => {
  columnsPanel.hidden = !columnsPanel.hidden;
  columnsButton.setAttribute("aria-expanded", String(!columnsPanel.hidden));
  renderColumnsPanel();
});
document.getElementById("runs-filter").addEventListener("submit", (event) => {
  event.preventDefault();
  state.filter = filterInput.value.trim();
  reload();
});
minmaxBox.addEventListener("change", () => { state.minmax = minmaxBox.checked; syncUrl(); load(); });
pageSizeSelect.addEventListener("change", () => { state.pageSize = Number(pageSizeSelect.value); reload(); });
compareButton.addEventListener("click", () => {
  const query = new URLSearchParams();
  query.set("run_ids", [...state.selected].join(","));
  window.location.href = `/compare?${query}`;
});


// ---- description and bulk delete / restore (MLflow's endpoints, so the server validates) -------
mountDescription(document.getElementById("description"),
  (text) => mlflowPost("experiments/set-experiment-tag", { experiment_id: experimentId, key: NOTE_TAG, value: text }));

function selectedRows(stage) {
  const byId = new Map(state.runs.map((r) => [r.run_id, r]));
  return [...state.selected].filter((id) => {
    const run = byId.get(id);
    return (run ? run.lifecycle_stage : state.view === "deleted" ? "deleted" : "active") === stage;
  });
}

function updateBulkButtons() {
  const active = selectedRows("active").length;
  const deleted = selectedRows("deleted").length;
  deleteButton.disabled = active === 0;
  deleteButton.textContent = active ? `Delete (${active})` : "Delete";
  restoreButton.hidden = state.view === "active";
  restoreButton.disabled = deleted === 0;
  restoreButton.textContent = deleted ? `Restore (${deleted})` : "Restore";
}

/** Run one MLflow call per run; the ids that succeeded, and the first error's message. */
async function eachRun(path, ids) {
  const done = [];
  let error = null;
  for (const id of ids) {
    try { await mlflowPost(path, { run_id: id }); done.push(id); } catch (err) { error = error || err.message; }
  }
  return { done, error };
}

function toast(text, action) {
  const parts = [el("span", {}, text)];
  if (action) {
    const button = el("button", { type: "button", class: "btn small" }, action.label);
    button.addEventListener("click", action.run);
    parts.push(button);
  }
  const close = el("button", { type: "button", class: "btn small", "aria-label": "Dismiss" }, "×");
  close.addEventListener("click", () => { runsMessage.hidden = true; });
  runsMessage.replaceChildren(...parts, close);
  runsMessage.hidden = false;
  runsMessage.classList.toggle("error", text.startsWith("Could not"));
}

async function bulk(path, ids, verb, undo) {
  const { done, error } = await eachRun(path, ids);
  done.forEach((id) => state.selected.delete(id));
  selectionChanged();
  const count = `${done.length} run${done.length === 1 ? "" : "s"}`;
  const undoAction = done.length && undo ? { label: "Undo", run: () => bulk(undo.path, done, undo.verb, null) } : null;
  toast(error ? `Could not ${verb.toLowerCase()} every run: ${error} (${verb.toLowerCase()}d ${count}).` : `${verb}d ${count}.`, undoAction);
  await load();
  if (undoAction) runsMessage.querySelector("button")?.focus();
}

deleteButton.addEventListener("click", () =>
  bulk("runs/delete", selectedRows("active"), "Delete", { path: "runs/restore", verb: "Restore" }));
restoreButton.addEventListener("click", () =>
  bulk("runs/restore", selectedRows("deleted"), "Restore", { path: "runs/delete", verb: "Delete" }));
viewSelect.addEventListener("change", () => { state.view = viewSelect.value; state.selected.clear(); selectionChanged(); reload(); });

// ---- keyboard: arrow keys move between rows, in the same column -----------------------------
tbody.addEventListener("keydown", (event) => {
  if (!["ArrowDown", "ArrowUp"].includes(event.key) || event.target.tagName === "SELECT") return;
  const cell = event.target.closest("td");
  const row = event.target.closest("tr");
  if (!cell || !row) return;
  const next = event.key === "ArrowDown" ? row.nextElementSibling : row.previousElementSibling;
  const target = next && next.cells[cell.cellIndex] && next.cells[cell.cellIndex].querySelector("a, input, button");
  if (!target) return;
  event.preventDefault();
  target.focus();
});

// ---- live updates: new runs, new values and status while runs log -------------------------------
const LIVE_MS = 5000;
let liveTimer = null;
let liveKey = "";

function pageRequest(token) {
  return {
    experiment_id: experimentId,
    filter: state.filter,
    order_by: state.orderBy,
    max_results: state.pageSize,
    page_token: token,
    summaries: state.minmax ? "1" : "",
    view: state.view,
  };
}

/** Re-read the first runs (one JSON request, never the whole page) and redraw if they changed:
 * new runs appear at the top, running runs show new values. Only while the first page alone is
 * fetched (a long scroll is not disturbed) or runs are running in it. */
function scheduleLive() {
  clearTimeout(liveTimer);
  if (!state.loaded || state.runs.length > state.pageSize) return;
  liveTimer = setTimeout(liveTick, LIVE_MS);
}

/** The runs as JSON without their durations: the server computes a running run's duration
 * at each request, so it differs every time although nothing else changed. */
function withoutDurations(runs) {
  return JSON.stringify(runs, function (key, value) {
    return key === "duration" && this && "run_id" in this ? undefined : value;
  });
}

/** Running runs' new durations, written into the cells in place: redrawing the table for them
 * would replace every row in view every few seconds. */
function refreshDurations(runs) {
  const durations = new Map(runs.map((run) => [run.run_id, run.duration]));
  for (const run of state.runs) if (durations.has(run.run_id)) run.duration = durations.get(run.run_id);
  const column = visibleColumns().findIndex((col) => col.group === "attributes" && col.id === "duration");
  if (column < 0) return;
  for (const tr of tbody.querySelectorAll("tr[data-run-id]")) {
    const cell = tr.cells[column + 1]; // after the selection box
    if (cell && durations.has(tr.dataset.runId)) cell.textContent = fmtDuration(durations.get(tr.dataset.runId));
  }
}

async function liveTick() {
  const inUse = tbody.contains(document.activeElement) || columnsPanel.contains(document.activeElement) ||
    thead.contains(document.activeElement);
  const busy = document.hidden || inUse || state.loading !== liveKey || state.fetchingMore;
  if (!busy) {
    try {
      const ticket = state.loading;
      const data = await getJson(`${API}/runs`, pageRequest(null));
      if (ticket === state.loading && state.runs.length <= state.pageSize) {
        if (withoutDurations(data.runs) !== withoutDurations(state.runs)) {
          addKeys(data);
          state.runs = data.runs;
          state.nextToken = data.next_page_token;
          render({ keepWidths: true });
        } else {
          refreshDurations(data.runs);
        }
      }
    } catch { /* keep the rows shown; try again */ }
  }
  liveKey = state.loading;
  scheduleLive();
}

selectionChanged();
load();
