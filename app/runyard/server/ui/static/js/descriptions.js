// Read-only descriptions (registered models and their versions): each element with a
// data-markdown attribute shows its text through the one Markdown renderer the editors use,
// so every description in the UI is rendered, and made safe, the same way.
import { renderMarkdown } from "./markdown.js";

for (const node of document.querySelectorAll("[data-markdown]")) {
  const text = node.dataset.markdown;
  if (text && text.trim()) node.replaceChildren(renderMarkdown(text));
}
