// Runs table: server-side filter, sort and paging (page tokens); only the current page is in
// the DOM. State lives in the URL so a reload or a shared link shows the same table.
import { API, el, fmtDuration, fmtNum, fmtTime, getJson, statusPill } from "./dom.js";

const root = document.getElementById("runs");
const experimentId = root.dataset.experimentId;
const table = document.getElementById("runs-table");
const thead = table.querySelector("thead");
const tbody = table.querySelector("tbody");
const filterInput = document.getElementById("filter");
const filterError = document.getElementById("filter-error");
const pageInfo = document.getElementById("page-info");
const prevButton = document.getElementById("prev-page");
const nextButton = document.getElementById("next-page");
const compareButton = document.getElementById("compare-button");
const exportLink = document.getElementById("export-link");
const minmaxBox = document.getElementById("minmax");
const pageSizeSelect = document.getElementById("page-size");
const columnsButton = document.getElementById("columns-button");
const columnsPanel = document.getElementById("columns-panel");

const url = new URL(window.location.href);
const state = {
  filter: url.searchParams.get("filter") || "",
  orderBy: url.searchParams.get("order_by") || "",
  pageSize: Number(url.searchParams.get("max_results")) || 100,
  minmax: url.searchParams.get("minmax") === "1",
  // Params and metrics show unless hidden; tags (often many system tags) hide unless shown.
  hidden: new Set(url.searchParams.getAll("hide")),
  shown: new Set(url.searchParams.getAll("show")),
  tokens: [null],
  page: 0,
  attributes: [],
  keys: { params: new Set(), metrics: new Set(), tags: new Set() },
  selected: new Set(),
  lastData: null,
  loading: 0,
};
filterInput.value = state.filter;
minmaxBox.checked = state.minmax;
pageSizeSelect.value = String(state.pageSize);

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

function syncUrl() {
  const next = new URL(window.location.href);
  next.search = "";
  if (state.filter) next.searchParams.set("filter", state.filter);
  if (state.orderBy) next.searchParams.set("order_by", state.orderBy);
  if (state.pageSize !== 100) next.searchParams.set("max_results", state.pageSize);
  if (state.minmax) next.searchParams.set("minmax", "1");
  for (const h of state.hidden) next.searchParams.append("hide", h);
  for (const s of state.shown) next.searchParams.append("show", s);
  window.history.replaceState(null, "", next);
  updateExportLink();
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

function headerCell(col) {
  const sort = currentSort();
  const numeric = col.group === "metrics" || col.id === "duration";
  const th = el("th", { scope: "col", class: `group-${col.group}${numeric ? " num" : ""}`, title: col.group === "attributes" ? null : `${col.group}.${col.label}`, dataset: { column: col.id } });
  if (!col.orderBy) {
    th.textContent = col.label;
    return th;
  }
  const active = sort && sort.clause === col.orderBy;
  const button = el("button", { type: "button", class: "sort", "aria-sort-dir": active ? sort.dir : null }, col.label);
  button.addEventListener("click", () => onSort(col));
  if (active) th.setAttribute("aria-sort", sort.dir === "ASC" ? "ascending" : "descending");
  th.append(button);
  return th;
}

function renderHead(cols) {
  const selectAll = el("input", { type: "checkbox", "aria-label": "Select all runs on this page" });
  selectAll.addEventListener("change", () => {
    for (const box of tbody.querySelectorAll("input[type=checkbox]")) {
      box.checked = selectAll.checked;
      toggleRun(box.closest("tr"), box.checked);
    }
  });
  thead.replaceChildren(el("tr", {}, el("th", { class: "sel" }, selectAll), cols.map(headerCell)));
}

function cellFor(run, col) {
  if (col.group === "attributes") {
    switch (col.id) {
      case "run_name":
        return el("td", { class: "name" }, el("a", { href: `/runs/${encodeURIComponent(run.run_id)}` }, run.run_name || run.run_id));
      case "status": return el("td", {}, statusPill(run.status));
      case "start_time": return el("td", {}, fmtTime(run.start_time));
      case "duration": return el("td", { class: "num" }, fmtDuration(run.duration));
      default: return el("td", { title: run[col.id] || null }, run[col.id] || "");
    }
  }
  if (col.group === "metrics") {
    const m = run.metrics[col.key];
    if (!m) return el("td", { class: "num muted" }, "—");
    // A cell is [latest, step] or [latest, step, min, max, count] (see ui_data.metric_cell).
    const td = el("td", { class: "num", title: `step ${m[1]}` }, fmtNum(m[0]));
    if (state.minmax && m.length > 2) td.append(el("span", { class: "minmax" }, `${fmtNum(m[2])} – ${fmtNum(m[3])}`));
    return td;
  }
  const value = run[col.group][col.key];
  return el("td", { class: "mono", title: value ?? null }, value ?? "");
}

function toggleRun(tr, on) {
  if (on) state.selected.add(tr.dataset.runId);
  else state.selected.delete(tr.dataset.runId);
  tr.classList.toggle("selected", on);
  compareButton.disabled = state.selected.size < 2;
  compareButton.textContent = state.selected.size >= 2 ? `Compare (${state.selected.size})` : "Compare";
}

function renderBody(runs, cols) {
  const rows = runs.map((run) => {
    const box = el("input", { type: "checkbox", "aria-label": `Select run ${run.run_name}` });
    box.checked = state.selected.has(run.run_id);
    const tr = el("tr", { dataset: { runId: run.run_id }, class: box.checked ? "selected" : null },
      el("td", { class: "sel" }, box), cols.map((col) => cellFor(run, col)));
    box.addEventListener("change", () => toggleRun(tr, box.checked));
    return tr;
  });
  if (!rows.length) {
    rows.push(el("tr", {}, el("td", { colspan: cols.length + 1, class: "empty" }, "No runs match.")));
  }
  tbody.replaceChildren(...rows);
}

function render() {
  const data = state.lastData;
  if (!data) return;
  const cols = visibleColumns();
  renderHead(cols);
  renderBody(data.runs, cols);
  renderColumnsPanel();
  updateExportLink();
}

async function load() {
  const ticket = ++state.loading;
  table.setAttribute("aria-busy", "true");
  pageInfo.textContent = "Loading…";
  try {
    const data = await getJson(`${API}/runs`, {
      experiment_id: experimentId,
      filter: state.filter,
      order_by: state.orderBy,
      max_results: state.pageSize,
      page_token: state.tokens[state.page],
      summaries: state.minmax ? "1" : "",
    });
    if (ticket !== state.loading) return;
    filterError.hidden = true;
    state.attributes = data.columns;
    data.param_keys.forEach((k) => state.keys.params.add(k));
    data.metric_keys.forEach((k) => state.keys.metrics.add(k));
    data.tag_keys.forEach((k) => state.keys.tags.add(k));
    state.tokens[state.page + 1] = data.next_page_token;
    state.tokens.length = state.page + 2;
    state.lastData = data;
    render();
    const first = state.page * state.pageSize + 1;
    pageInfo.textContent = data.runs.length
      ? `Runs ${first}–${first + data.runs.length - 1}${data.next_page_token ? "" : " (last page)"}`
      : "No runs";
    prevButton.disabled = state.page === 0;
    nextButton.disabled = !data.next_page_token;
    table.parentElement.scrollTop = 0;
  } catch (err) {
    if (ticket !== state.loading) return;
    showFilterError(err.message);
    state.lastData = { runs: [], columns: state.attributes };
    tbody.replaceChildren();
    pageInfo.textContent = "Fix the filter to see runs.";
    prevButton.disabled = nextButton.disabled = true;
  } finally {
    if (ticket === state.loading) table.setAttribute("aria-busy", "false");
  }
}

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
  state.tokens = [null];
  state.page = 0;
  syncUrl();
  load();
}

function renderColumnsPanel() {
  if (columnsPanel.hidden) return;
  const groups = [["Attributes", allColumns().filter((c) => c.group === "attributes")]];
  for (const group of ["params", "metrics", "tags"]) {
    groups.push([group[0].toUpperCase() + group.slice(1), allColumns().filter((c) => c.group === group)]);
  }
  const nodes = [];
  for (const [title, cols] of groups) {
    if (!cols.length) continue;
    nodes.push(el("h3", {}, title));
    for (const col of cols) {
      const box = el("input", { type: "checkbox", dataset: { column: col.id } });
      box.checked = isVisible(col);
      box.addEventListener("change", () => {
        if (col.group === "tags") state.shown[box.checked ? "add" : "delete"](col.id);
        else state.hidden[box.checked ? "delete" : "add"](col.id);
        syncUrl();
        render();
      });
      nodes.push(el("label", { title: col.label }, box, col.label));
    }
  }
  columnsPanel.replaceChildren(...nodes);
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
prevButton.addEventListener("click", () => { if (state.page > 0) { state.page -= 1; load(); } });
nextButton.addEventListener("click", () => { if (state.tokens[state.page + 1]) { state.page += 1; load(); } });
compareButton.addEventListener("click", () => {
  const query = new URLSearchParams();
  query.set("run_ids", [...state.selected].join(","));
  window.location.href = `/compare?${query}`;
});

syncUrl();
load();
