// A small Markdown renderer that builds DOM nodes, never HTML strings: raw HTML in a
// description shows as the text it is, and a link is a link only when its URL resolves to
// http(s) or mailto (so no javascript:, data: or vbscript: links, however they are spelled).
// Covers what descriptions use: headings, paragraphs, lists, quotes, code, rules, emphasis,
// inline code and links.
import { el } from "./dom.js";

const SAFE_PROTOCOLS = new Set(["http:", "https:", "mailto:"]);

/** The URL to put in href, or null when it is not safe to follow. */
export function safeHref(raw) {
  const href = String(raw).trim();
  if (!href) return null;
  try {
    const url = new URL(href, window.location.href);
    return SAFE_PROTOCOLS.has(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

const INLINE = /(`+)([\s\S]*?[^`])\1(?!`)|\*\*([^*]+)\*\*|__([^_]+)__|\*([^*\s][^*]*)\*|_([^_\s][^_]*)_|\[([^\]]*)\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)|(https?:\/\/[^\s<>()]+[^\s<>().,;:!?'"])/;

/** Inline Markdown as a list of nodes. */
export function inline(text) {
  const out = [];
  let rest = text;
  while (rest) {
    const m = INLINE.exec(rest);
    if (!m) { out.push(rest); break; }
    if (m.index) out.push(rest.slice(0, m.index));
    if (m[1]) out.push(el("code", {}, m[2].trim() || m[2]));
    else if (m[3] !== undefined || m[4] !== undefined) out.push(el("strong", {}, inline(m[3] ?? m[4])));
    else if (m[5] !== undefined || m[6] !== undefined) out.push(el("em", {}, inline(m[5] ?? m[6])));
    else if (m[7] !== undefined) {
      const href = safeHref(m[8]);
      const label = inline(m[7] || m[8]);
      out.push(href ? el("a", { href, rel: "noopener noreferrer nofollow" }, label) : el("span", { class: "unsafe-link", title: "Link not followed" }, label));
    } else {
      const href = safeHref(m[9]);
      out.push(href ? el("a", { href, rel: "noopener noreferrer nofollow" }, m[9]) : m[9]);
    }
    rest = rest.slice(m.index + m[0].length);
  }
  return out;
}

const LIST_ITEM = /^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$/;

/** Markdown text as a DocumentFragment of block elements. */
export function renderMarkdown(text) {
  const lines = String(text ?? "").replace(/\r\n?/g, "\n").split("\n");
  const frag = document.createDocumentFragment();
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (!line.trim()) { i++; continue; }
    const fence = /^\s*(```|~~~)/.exec(line);
    if (fence) {
      const body = [];
      i++;
      while (i < lines.length && !lines[i].trim().startsWith(fence[1])) body.push(lines[i++]);
      i++;
      frag.append(el("pre", {}, el("code", {}, body.join("\n"))));
      continue;
    }
    const heading = /^\s*(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      // Description headings sit under the page's own h1/h2, so they start at h3.
      const level = Math.min(6, heading[1].length + 2);
      frag.append(el(`h${level}`, {}, inline(heading[2])));
      i++;
      continue;
    }
    if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) { frag.append(el("hr")); i++; continue; }
    if (/^\s*>/.test(line)) {
      const body = [];
      while (i < lines.length && /^\s*>/.test(lines[i])) body.push(lines[i++].replace(/^\s*>\s?/, ""));
      frag.append(el("blockquote", {}, renderMarkdown(body.join("\n"))));
      continue;
    }
    if (/^ {4}|\t/.test(line)) {
      const body = [];
      while (i < lines.length && (/^ {4}|\t/.test(lines[i]) || !lines[i].trim())) body.push(lines[i++].replace(/^( {4}|\t)/, ""));
      frag.append(el("pre", {}, el("code", {}, body.join("\n").replace(/\n+$/, ""))));
      continue;
    }
    const item = LIST_ITEM.exec(line);
    if (item) {
      const ordered = /\d/.test(item[2]);
      const list = el(ordered ? "ol" : "ul");
      while (i < lines.length) {
        const m = LIST_ITEM.exec(lines[i]);
        if (!m || /\d/.test(m[2]) !== ordered) break;
        const parts = [m[3]];
        i++;
        while (i < lines.length && lines[i].trim() && !LIST_ITEM.exec(lines[i]) && /^\s+/.test(lines[i])) parts.push(lines[i++].trim());
        list.append(el("li", {}, inline(parts.join(" "))));
      }
      frag.append(list);
      continue;
    }
    const para = [];
    while (i < lines.length && lines[i].trim() && !/^\s*(#{1,6}\s|```|~~~|>)/.test(lines[i]) && !LIST_ITEM.exec(lines[i])) {
      para.push(lines[i++].trim());
    }
    if (!para.length) { para.push(line.trim()); i++; }
    frag.append(el("p", {}, inline(para.join(" "))));
  }
  return frag;
}
