// In-page editing: descriptions (Markdown), tags and names. Every write is a call to MLflow's
// own REST endpoints, so the server validates it exactly as it validates a client's.
import { MLFLOW_API, el, postJson } from "./dom.js";
import { renderMarkdown } from "./markdown.js";

/** MLflow keeps run and experiment descriptions in this tag. */
export const NOTE_TAG = "mlflow.note.content";

export function mlflowPost(path, body) {
  return postJson(`${MLFLOW_API}/${path}`, body);
}

function errorLine(err) {
  return el("p", { class: "message error", role: "alert" }, err.message);
}

/**
 * A description card: rendered Markdown, and an editor (textarea, preview, save, cancel).
 * ``save(text)`` performs the write and rejects with the server's error.
 */
export function mountDescription(card, save) {
  let text = card.dataset.text || "";
  const view = el("div", { class: "markdown", id: `${card.id}-text` });
  const editButton = el("button", { type: "button", class: "btn small", "aria-label": "Edit description" }, "Edit");
  const head = el("div", { class: "card-head" }, el("h2", {}, "Description"), editButton);
  const body = el("div", {});
  card.replaceChildren(head, body);

  function show() {
    view.replaceChildren(text.trim() ? renderMarkdown(text) : el("p", { class: "muted" }, "No description. Edit to add one (Markdown)."));
    body.replaceChildren(view);
    editButton.hidden = false;
  }

  function edit() {
    const id = `${card.id}-input`;
    const area = el("textarea", { id, rows: Math.min(20, Math.max(5, text.split("\n").length + 1)), class: "mono" });
    area.value = text;
    const preview = el("div", { class: "markdown preview-md", hidden: true });
    const previewBox = el("input", { type: "checkbox" });
    previewBox.addEventListener("change", () => {
      preview.hidden = !previewBox.checked;
      if (previewBox.checked) preview.replaceChildren(renderMarkdown(area.value));
    });
    area.addEventListener("input", () => { if (previewBox.checked) preview.replaceChildren(renderMarkdown(area.value)); });
    const saveButton = el("button", { type: "submit", class: "btn primary" }, "Save");
    const cancel = el("button", { type: "button", class: "btn" }, "Cancel");
    const status = el("div", { role: "status" });
    const form = el("form", { class: "description-form" },
      el("label", { for: id, class: "sr-only" }, "Description (Markdown)"), area,
      el("div", { class: "inline-form" }, saveButton, cancel, el("label", { class: "check" }, previewBox, "Preview"),
        el("span", { class: "muted" }, "Markdown: **bold**, _italic_, `code`, [link](https://…), lists, headings")),
      preview, status);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      saveButton.disabled = true;
      try {
        await save(area.value);
        text = area.value;
        card.dataset.text = text;
        show();
        editButton.focus();
      } catch (err) {
        status.replaceChildren(errorLine(err));
        saveButton.disabled = false;
      }
    });
    cancel.addEventListener("click", () => { show(); editButton.focus(); });
    form.addEventListener("keydown", (event) => { if (event.key === "Escape") { show(); editButton.focus(); } });
    editButton.hidden = true;
    body.replaceChildren(form);
    area.focus();
  }

  editButton.addEventListener("click", edit);
  show();
}

/**
 * Rename in place: the heading turns into a text field; Enter saves, Escape cancels.
 * ``save(name)`` performs the write and rejects with the server's error.
 */
export function mountRename(heading, button, save) {
  button.addEventListener("click", () => {
    const input = el("input", { type: "text", value: heading.textContent.trim(), "aria-label": "New name", class: "rename-input", maxlength: 250 });
    const status = el("span", { role: "status" });
    const form = el("form", { class: "inline-form rename-form" }, input,
      el("button", { type: "submit", class: "btn primary small" }, "Save"),
      el("button", { type: "button", class: "btn small", "data-cancel": "" }, "Cancel"), status);
    const done = () => { form.replaceWith(heading); button.hidden = false; button.focus(); };
    form.querySelector("[data-cancel]").addEventListener("click", done);
    input.addEventListener("keydown", (event) => { if (event.key === "Escape") done(); });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const name = input.value.trim();
      if (!name) return;
      try {
        await save(name);
        heading.textContent = name;
        done();
      } catch (err) {
        status.replaceChildren(errorLine(err));
      }
    });
    button.hidden = true;
    heading.replaceWith(form);
    input.focus();
    input.select();
  });
}
