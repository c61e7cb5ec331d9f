/**
 * Building DOM nodes without `innerHTML`: text always goes in as text nodes,
 * so nothing a user or a peer typed can become markup.
 */

/** Attribute values: `true` sets an empty attribute, `false`/`undefined` omit it. */
export type Attrs = Record<string, string | number | boolean | undefined>;

/** A child: a node, or text. */
export type Child = Node | string;

function applyAttrs(el: Element, attrs: Attrs): void {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    el.setAttribute(name, value === true ? "" : String(value));
  }
}

/** Creates an HTML element with attributes and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  applyAttrs(el, attrs);
  el.append(...children);
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** Creates an SVG element (they need their own namespace). */
export function s(tag: string, attrs: Attrs = {}, ...children: Element[]): SVGElement {
  const el = document.createElementNS(SVG_NS, tag) as SVGElement;
  applyAttrs(el, attrs);
  el.append(...children);
  return el;
}
