// Images logged per step: one panel per key with a step slider; with several runs the panel
// shows them side by side at the same step. "All steps" opens a grid of every step's image.
import { API, el, getJson } from "./dom.js";

/** Most thumbnails an "All steps" grid shows (evenly spread over the steps). */
const GRID_MAX = 60;

/** The image of ``images`` (ordered by step) at ``step``, or the last one before it. */
export function imageAt(images, step) {
  let found = null;
  for (const image of images) {
    if (image.step > step) break;
    found = image;
  }
  return found;
}

function spread(items, max) {
  if (items.length <= max) return items;
  return Array.from({ length: max }, (_, i) => items[Math.round((i * (items.length - 1)) / (max - 1))]);
}

function runCell(run, images, step) {
  const image = imageAt(images, step);
  const caption = el("figcaption", {}, el("span", { class: "run-name" }, run.run_name || run.run_id),
    image ? el("span", { class: "muted" }, ` step ${image.step}`) : null);
  if (!image) return el("figure", { class: "step-image empty" }, el("div", { class: "no-image muted" }, "No image yet"), caption);
  return el("figure", { class: "step-image", dataset: { step: String(image.step), runId: run.run_id } },
    el("a", { href: image.full_url, target: "_blank", rel: "noopener", title: "Open the full-size image" },
      el("img", { src: image.url, alt: `${run.run_name || run.run_id}: step ${image.step}` })),
    caption);
}

function keyPanel(key, runs) {
  const perRun = runs.map((run) => (run.keys.find((k) => k.key === key) || { images: [] }).images);
  const steps = [...new Set(perRun.flat().map((i) => i.step))].sort((a, b) => a - b);
  const id = `step-${Math.random().toString(36).slice(2)}`;
  const slider = el("input", { type: "range", id, min: 0, max: Math.max(0, steps.length - 1), value: Math.max(0, steps.length - 1), step: 1 });
  const label = el("output", { for: id, class: "mono" });
  const row = el("div", { class: "step-images" });
  const grid = el("div", { class: "step-grid", hidden: true });
  const gridButton = el("button", { type: "button", class: "btn small", "aria-expanded": "false" }, "All steps");
  const show = () => {
    const step = steps[Number(slider.value)] ?? 0;
    label.textContent = `step ${step}`;
    slider.setAttribute("aria-valuetext", `step ${step}`);
    row.replaceChildren(...runs.map((run, i) => runCell(run, perRun[i], step)));
  };
  slider.addEventListener("input", show);
  gridButton.addEventListener("click", () => {
    grid.hidden = !grid.hidden;
    gridButton.setAttribute("aria-expanded", String(!grid.hidden));
    if (grid.hidden || grid.childElementCount) return;
    // The grid shows the first run's images (on the compare page: the first run with this key).
    const images = perRun.find((list) => list.length) || [];
    grid.replaceChildren(...spread(images, GRID_MAX).map((image) => {
      const button = el("button", { type: "button", class: "thumb", title: `step ${image.step}` },
        el("img", { src: image.url, alt: `step ${image.step}`, loading: "lazy" }), el("span", { class: "muted" }, String(image.step)));
      button.addEventListener("click", () => { slider.value = String(steps.indexOf(image.step)); show(); slider.focus(); });
      return button;
    }));
  });
  show();
  return el("section", { class: "image-key", dataset: { key } },
    el("div", { class: "image-key-head" }, el("h3", { class: "mono" }, key),
      el("label", { class: "slider", for: id }, el("span", { class: "sr-only" }, `Step of ${key}`), slider), label, gridButton),
    row, grid);
}

/** Fill ``card`` (hidden until there are images) with one panel per key over ``runIds``. */
export async function mountImages(card, runIds) {
  const body = card.querySelector(".images-body");
  try {
    const runs = await Promise.all(runIds.map((id) => getJson(`${API}/images`, { run_id: id })));
    const keys = [...new Set(runs.flatMap((r) => r.keys.map((k) => k.key)))].sort();
    if (!keys.length) return;
    body.replaceChildren(...keys.map((key) => keyPanel(key, runs)));
    card.hidden = false;
  } catch (err) {
    body.replaceChildren(el("p", { class: "message error" }, err.message));
    card.hidden = false;
  }
}
