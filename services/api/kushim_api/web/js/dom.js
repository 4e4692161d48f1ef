// Building DOM nodes without HTML parsing: every string lands in a text node or an attribute,
// so a record field (from an untrusted webhook) can never become markup.

export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

export function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

// Only http(s) addresses become links: a record's url could be `javascript:`.
export function safeUrl(text) {
  try {
    const url = new URL(text);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

export function shorten(text, max = 48) {
  const value = String(text ?? "");
  return value.length > max ? `${value.slice(0, max - 1)}…` : value;
}

export function when(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : date.toLocaleString();
}

export function errorBox(error) {
  const status = error && error.status ? ` (HTTP ${error.status})` : "";
  return h("p", { class: "error", role: "alert" }, `${error?.message ?? error}${status}`);
}

export function status(text = "") {
  return h("p", { class: "status", role: "status", "aria-live": "polite" }, text);
}

export function field(label, control) {
  return h("label", { class: "field" }, h("span", {}, label), control);
}

export function select(name, options, selected = "") {
  return h("select", { name },
    options.map(([value, text]) => h("option", { value, selected: value === selected }, text)));
}

export function platformBadge(platform) {
  return h("span", { class: `badge platform-${platform}` }, platform);
}
