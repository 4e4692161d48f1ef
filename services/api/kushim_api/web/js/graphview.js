// A graph section: the drawing, a legend, and the same nodes and links as keyboard-usable
// lists (the accessible, text form of the graph), with the edge panel beside them.
import { drawGraph, METHOD_LINES, PLATFORM_COLOURS } from "./graph.js";
import { edgePanel } from "./edgepanel.js";
import { h, platformBadge, shorten } from "./dom.js";

function legend() {
  return h("div", { class: "legend", "aria-hidden": "true" },
    Object.keys(PLATFORM_COLOURS).map((platform) => h("span", { class: "legend-item" },
      h("span", { class: `swatch platform-${platform}` }), platform)),
    Object.entries(METHOD_LINES).map(([method, line]) => h("span", { class: "legend-item" },
      h("span", { class: `line line-${line}` }), method)),
    h("span", { class: "legend-item" }, "thicker = more confident"));
}

export function graphView(graph, { centreId, onNode }) {
  const byId = new Map(graph.nodes.map((node) => [node.id, node]));
  const title = (id) => shorten(byId.get(id)?.title ?? id, 60);
  let cy = null;
  // Feedback shows at once in the list and on the drawing (a wrong link turns red).
  const panel = edgePanel((link) => {
    const entry = linkList.querySelector(`li[data-link-id="${CSS.escape(link.id)}"] .feedback`);
    if (entry) entry.textContent = ` · marked ${link.feedback}`;
    cy?.$id(link.id).toggleClass("rejected", link.feedback === "negative");
  });
  const describe = (link) =>
    `${title(link.sourceRecordId)} ↔ ${title(link.targetRecordId)}`;
  const linksById = new Map(graph.links.map((link) => [link.id, link]));
  const openEdge = (id) => panel.open(id, describe(linksById.get(id)));
  const canvas = h("div", { class: "graph-canvas", id: "graph", role: "img",
    "aria-label": `Graph of ${graph.nodes.length} records and ${graph.links.length} links; ` +
      "the lists below hold the same content" });

  const nodeList = h("ul", { class: "node-list" }, graph.nodes.map((node) => h("li", {
    dataset: { recordId: node.id } },
    platformBadge(node.sourcePlatform), " ", h("span", { class: "type" }, node.artifactType), " ",
    node.id === centreId
      ? h("strong", { class: "title" }, node.title)
      : h("a", { href: `#/records/${encodeURIComponent(node.id)}`, class: "title" },
        node.title))));
  const linkList = h("ul", { class: "link-list" }, graph.links.map((link) => h("li", {
    dataset: { linkId: link.id } },
    h("button", { type: "button", class: "link", onclick: () => openEdge(link.id) },
      describe(link)),
    ` · ${link.confidence.toFixed(2)} · ${link.method}`,
    h("span", { class: "feedback" }, link.feedback ? ` · marked ${link.feedback}` : ""))));

  const section = h("section", { class: "graph-section" },
    h("div", { class: "graph-main" }, canvas, legend()),
    panel.element,
    h("div", { class: "graph-lists" },
      h("section", { "aria-label": "Records in this graph" },
        h("h3", {}, `Records (${graph.nodes.length})`), nodeList),
      h("section", { "aria-label": "Links in this graph" },
        h("h3", {}, `Links (${graph.links.length})`),
        graph.links.length ? linkList : h("p", {}, "No links yet."))));
  // cytoscape measures its container: draw once the section is in the document.
  section.draw = () => {
    cy = drawGraph(canvas, graph, { centreId, onNode, onEdge: openEdge });
  };
  return section;
}
