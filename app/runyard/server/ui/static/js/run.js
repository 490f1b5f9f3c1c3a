// Run page: chart panel, artifact tree with previews, and live updates while RUNNING.
import { mountChart } from "./chart.js";
import { API, el, fmtDuration, fmtNum, getJson } from "./dom.js";
import { NOTE_TAG, mlflowPost, mountDescription, mountRename } from "./edit.js";
import { mountImages } from "./images.js";

const runEl = document.getElementById("run");
const runId = runEl.dataset.runId;
const chartCard = document.getElementById("chart-card");
const chart = mountChart(chartCard);
// A run without metrics shows no empty chart; the first metric logged (live) brings it.
chartCard.hidden = !chartCard.dataset.metricKeys;

for (const button of document.querySelectorAll("button[data-chart]")) {
  button.addEventListener("click", () => {
    chart.setKey(button.dataset.chart);
    document.getElementById("chart-card").scrollIntoView({ behavior: "smooth", block: "start" });
  });
}

// ---- editing: description, name, tags (MLflow's endpoints, so the server validates) -------------
mountDescription(document.getElementById("description"),
  (text) => mlflowPost("runs/set-tag", { run_id: runId, key: NOTE_TAG, value: text }));
mountRename(document.getElementById("run-name"), document.getElementById("rename-run"), async (name) => {
  await mlflowPost("runs/update", { run_id: runId, run_name: name });
  document.title = `${name} · runyard`;
  const crumb = document.querySelector(".crumbs > span:last-child");
  if (crumb) crumb.textContent = name;
});

const tagsBody = document.querySelector("#tags-table tbody");
const tagsMessage = document.getElementById("tags-message");

function tagsChanged(text, isError = false) {
  tagsMessage.textContent = text;
  tagsMessage.classList.toggle("error", isError);
  document.getElementById("no-tags").hidden = tagsBody.rows.length > 0;
}

function tagRow(key, value) {
  return el("tr", { dataset: { key } }, el("th", { scope: "row", class: "mono" }, key), el("td", { class: "mono wrap" }, value),
    el("td", { class: "actions" }, el("button", { type: "button", class: "btn small", dataset: { removeTag: key }, "aria-label": `Remove tag ${key}` }, "Remove")));
}

tagsBody.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-remove-tag]");
  if (!button) return;
  const key = button.dataset.removeTag;
  try {
    await mlflowPost("runs/delete-tag", { run_id: runId, key });
    button.closest("tr").remove();
    tagsChanged(`Removed tag ${key}.`);
  } catch (err) {
    tagsChanged(err.message, true);
  }
});

document.getElementById("add-tag").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const key = form.elements.key.value.trim();
  const value = form.elements.value.value;
  if (!key) return;
  try {
    await mlflowPost("runs/set-tag", { run_id: runId, key, value });
    const existing = tagsBody.querySelector(`tr[data-key="${CSS.escape(key)}"]`);
    const row = tagRow(key, value);
    if (existing) existing.replaceWith(row); else tagsBody.append(row);
    form.reset();
    form.elements.key.focus();
    tagsChanged(`Set tag ${key}.`);
  } catch (err) {
    tagsChanged(err.message, true);
  }
});

mountImages(document.getElementById("images"), [runId]);

// ---- system metrics and logged models --------------------------------------------------------
const systemCard = document.getElementById("system-metrics");
const systemChart = mountChart(systemCard);
const systemCounts = new Map();

/** System metrics of a running run: rows and chart follow as samples arrive. */
function updateSystem(metrics) {
  const system = metrics.filter((m) => m.key.startsWith("system/"));
  if (!system.length) return false;
  systemCard.hidden = false;
  const body = document.querySelector("#system-metrics-table tbody");
  let changed = false;
  for (const m of system) {
    let tr = body.querySelector(`tr[data-key="${CSS.escape(m.key)}"]`);
    if (!tr) {
      tr = el("tr", { dataset: { key: m.key } }, el("td", { class: "mono key", title: m.key }, m.key.slice(7)),
        ...["latest", "min", "max", "count"].map((f) => el("td", { class: "num", dataset: { field: f } })));
      body.append(tr);
      if (!systemChart.key) systemChart.setKey(m.key);
    }
    for (const f of ["latest", "min", "max", "count"]) tr.querySelector(`[data-field="${f}"]`).textContent = f === "count" ? String(m.count) : fmtNum(m[f]);
    if (systemCounts.get(m.key) !== m.count) {
      systemCounts.set(m.key, m.count);
      if (m.key === systemChart.key) changed = true;
    }
  }
  return changed;
}

async function listModelFiles(details) {
  const list = details.querySelector(".model-files");
  const modelId = details.dataset.modelId;
  try {
    const data = await getJson(`${API}/logged-models/files`, { model_id: modelId });
    const files = data.files.filter((f) => !f.is_dir);
    const dirs = data.files.filter((f) => f.is_dir);
    const items = [
      ...dirs.map((f) => el("li", { class: "mono" }, `${f.name}/`)),
      ...files.map((f) => el("li", {}, el("a", { class: "mono", href: `${API}/logged-models/raw?${new URLSearchParams({ model_id: modelId, path: f.path })}`, download: f.name }, f.name),
        el("span", { class: "size" }, ` ${fmtSize(f.file_size)}`))),
    ];
    list.replaceChildren(...(items.length ? items : [el("li", { class: "muted" }, "No files.")]));
  } catch (err) {
    list.replaceChildren(el("li", { class: "message error" }, err.message));
  }
}

for (const details of document.querySelectorAll("details.logged-model")) {
  let loaded = false;
  const load = () => { if (details.open && !loaded) { loaded = true; listModelFiles(details); } };
  details.addEventListener("toggle", load);
  load();
}

// ---- artifacts ----------------------------------------------------------------------------------
const tree = document.getElementById("artifact-tree");
const preview = document.getElementById("artifact-preview");

function fmtSize(n) {
  if (n === null || n === undefined) return "";
  const units = ["B", "KB", "MB", "GB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}

function rawUrl(path, download) {
  const q = new URLSearchParams({ run_id: runId, path });
  if (download) q.set("download", "1");
  return `${API}/artifacts/raw?${q}`;
}

async function listInto(list, path) {
  try {
    const data = await getJson(`${API}/artifacts/list`, { run_id: runId, path });
    if (!data.files.length && !path) {
      list.replaceChildren(el("li", { class: "muted" }, "No artifacts."));
      return;
    }
    list.replaceChildren(...data.files.map(treeItem));
  } catch (err) {
    list.replaceChildren(el("li", { class: "message error" }, err.message));
  }
}

function treeItem(file) {
  const li = el("li", { role: "treeitem" });
  const button = el("button", { type: "button", dataset: { path: file.path } },
    el("span", { class: "icon", "aria-hidden": "true" }, file.is_dir ? "▸" : "·"),
    el("span", { class: "mono" }, file.name),
    el("span", { class: "size" }, fmtSize(file.file_size)));
  li.append(button);
  if (file.is_dir) {
    li.setAttribute("aria-expanded", "false");
    const children = el("ul", { role: "group", hidden: true });
    li.append(children);
    button.addEventListener("click", () => {
      const open = children.hidden;
      children.hidden = !open;
      li.setAttribute("aria-expanded", String(open));
      button.querySelector(".icon").textContent = open ? "▾" : "▸";
      if (open && !children.childElementCount) listInto(children, file.path);
    });
  } else {
    button.addEventListener("click", () => {
      for (const b of tree.querySelectorAll("button[aria-current]")) b.removeAttribute("aria-current");
      button.setAttribute("aria-current", "true");
      showPreview(file);
    });
  }
  return li;
}

function csvTable(header, rows) {
  return el("div", { class: "table-wrap" }, el("table", { class: "grid compact csv-preview" },
    el("thead", {}, el("tr", {}, header.map((h) => el("th", {}, h)))),
    el("tbody", {}, rows.map((r) => el("tr", {}, r.map((c) => el("td", { class: "mono" }, c)))))));
}

let previewTicket = 0;

/** Previews the file clicked last: an earlier file's answer arriving later is dropped. */
async function showPreview(file) {
  const ticket = ++previewTicket;
  const head = el("div", { class: "preview-head" }, el("span", { class: "path" }, file.path),
    el("span", { class: "muted" }, fmtSize(file.file_size)),
    el("a", { class: "btn small", href: rawUrl(file.path, true), download: file.name }, "Download"));
  preview.replaceChildren(head, el("p", { class: "muted" }, "Loading…"));
  try {
    const data = await getJson(`${API}/artifacts/preview`, { run_id: runId, path: file.path });
    if (ticket !== previewTicket) return;
    let body;
    if (data.kind === "image") body = el("img", { src: data.url, alt: file.name });
    else if (data.kind === "csv") body = csvTable(data.header, data.rows);
    else if (data.kind === "binary") body = el("p", { class: "muted" }, "Binary file: download it to view.");
    else body = el("pre", { class: `preview-${data.kind}` }, data.text);
    const parts = [head, body];
    if (data.truncated) parts.push(el("p", { class: "note" }, "Preview truncated; download the file to see all of it."));
    preview.replaceChildren(...parts);
    preview.dataset.kind = data.kind;
  } catch (err) {
    if (ticket === previewTicket) preview.replaceChildren(head, el("p", { class: "message error" }, err.message));
  }
}

listInto(tree, "");

// ---- live updates -------------------------------------------------------------------------------
const POLL_MS = 2000;
const lastCounts = new Map([...document.querySelectorAll("#metrics-table tr[data-key]")].map((tr) => [tr.dataset.key, null]));

function updateMetrics(metrics) {
  let table = document.getElementById("metrics-table");
  if (!table && metrics.length) {
    const empty = document.getElementById("no-metrics");
    table = el("table", { class: "grid compact", id: "metrics-table" },
      el("thead", {}, el("tr", {}, ["Key", "Latest", "Step", "Min", "Max"].map((h) => el("th", {}, h)))), el("tbody"));
    if (empty) empty.replaceWith(table);
  }
  if (!table) return false;
  let changed = false;
  for (const m of metrics) {
    if (m.key.startsWith("system/")) continue; // charted in their own section
    let tr = table.querySelector(`tr[data-key="${CSS.escape(m.key)}"]`);
    if (!tr) {
      tr = el("tr", { dataset: { key: m.key } }, el("td", { class: "mono" }, m.key),
        ...["latest", "step", "min", "max"].map((f) => el("td", { class: "num", dataset: { field: f } })));
      table.tBodies[0].append(tr);
      if (!chart.key) { chartCard.hidden = false; chart.setKey(m.key); }
    }
    for (const f of ["latest", "step", "min", "max"]) {
      const td = tr.querySelector(`[data-field="${f}"]`);
      if (td) td.textContent = f === "step" ? String(m.step) : fmtNum(m[f]);
    }
    if (lastCounts.get(m.key) !== m.count) {
      lastCounts.set(m.key, m.count);
      if (m.key === chart.key) changed = true;
    }
  }
  return changed;
}

async function poll() {
  try {
    const live = await getJson(`${API}/runs/live`, { run_id: runId });
    const pill = document.getElementById("run-status");
    pill.textContent = live.status;
    pill.className = `pill status-${live.status.toLowerCase()}`;
    runEl.dataset.status = live.status;
    document.getElementById("run-duration").textContent = fmtDuration(live.duration);
    if (updateMetrics(live.metrics) || live.status !== "RUNNING") await chart.load();
    if (updateSystem(live.metrics) && systemChart.key) await systemChart.load();
    if (live.status === "RUNNING") setTimeout(poll, POLL_MS);
  } catch {
    setTimeout(poll, POLL_MS * 2);
  }
}

if (runEl.dataset.status === "RUNNING") setTimeout(poll, POLL_MS);
