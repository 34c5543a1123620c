/**
 * Message bodies: markdown rendered with raw HTML off (markdown-it `html: false`), then sanitised
 * by DOMPurify; every link opens in a new tab with rel="noopener noreferrer nofollow". Loaded only
 * with the conversation view.
 */
import DOMPurify from "dompurify";
import MarkdownIt from "markdown-it";

const md = new MarkdownIt({ html: false, linkify: true, breaks: true, typographer: false });

const SAFE_URL = /^(?:https?:|mailto:|#|\/(?!\/))/i;

DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A") {
    const href = node.getAttribute("href") ?? "";
    if (!SAFE_URL.test(href)) node.removeAttribute("href");
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer nofollow");
  }
  if (node.tagName === "IMG") {
    // no remote images: they would leak the reader's IP and are blocked by the CSP anyway
    node.replaceWith(document.createTextNode(node.getAttribute("alt") ?? ""));
  }
});

export function renderMarkdown(source: string): string {
  return DOMPurify.sanitize(md.render(source), {
    USE_PROFILES: { html: true },
    FORBID_TAGS: ["style", "form", "input", "button", "textarea", "select", "iframe"],
    FORBID_ATTR: ["style"],
  });
}
