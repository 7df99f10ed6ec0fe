import {
  type MarkupBlock,
  type MarkupInline,
  parseMarkup,
  safeHref,
} from "../../../src/client/markup.ts";
import { el } from "./dom.ts";

/**
 * A message's text as DOM nodes, from the Markdown subset's tree: only the
 * elements below are ever made, their text set as text, and a link's href only
 * when it is http, https or mailto. No HTML string is ever parsed, so nothing a
 * message contains can become an element, an attribute, or a request.
 */
export function renderMarkup(text: string): Node[] {
  return parseMarkup(text).map(block);
}

function block(markup: MarkupBlock): Node {
  switch (markup.type) {
    case "paragraph": {
      const paragraph = el("p");
      paragraph.append(...markup.children.map(inline));
      return paragraph;
    }
    case "code_block": {
      const pre = el("pre");
      pre.append(el("code", "", markup.text));
      return pre;
    }
    case "quote": {
      const quote = el("blockquote");
      quote.append(...markup.children.map(block));
      return quote;
    }
  }
}

function inline(markup: MarkupInline): Node {
  switch (markup.type) {
    case "text":
      return document.createTextNode(markup.text);
    case "break":
      return el("br");
    case "code":
      return el("code", "", markup.text);
    case "strong":
    case "em": {
      const element = el(markup.type);
      element.append(...markup.children.map(inline));
      return element;
    }
    case "link": {
      // The parser allows only safe links; checked again here, where it matters.
      const href = safeHref(markup.href);
      if (href === undefined) {
        const span = el("span");
        span.append(...markup.children.map(inline));
        return span;
      }
      const link = el("a");
      link.href = href;
      link.rel = "noopener noreferrer nofollow";
      link.target = "_blank";
      link.append(...markup.children.map(inline));
      return link;
    }
  }
}
