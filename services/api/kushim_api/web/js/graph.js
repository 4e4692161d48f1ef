// The cytoscape drawing of a {nodes, links} graph: nodes coloured by platform and labelled
// with their type, edges as wide as their confidence and dashed by discovery method.
import { h, shorten } from "./dom.js";

export const PLATFORM_COLOURS = {
  github: "#24292f", jira: "#0b5cad", slack: "#6f2d8f", google: "#137333", other: "#5f6b76",
};
export const METHOD_LINES = { deterministic: "solid", semantic: "dashed", manual: "dotted" };

function elements(graph, centreId) {
  const ids = new Set(graph.nodes.map((node) => node.id));
  const nodes = graph.nodes.map((node) => ({
    data: {
      id: node.id, platform: node.sourcePlatform,
      label: `${node.artifactType} · ${shorten(node.title, 32)}`,
    },
    classes: node.id === centreId ? "centre" : "",
  }));
  const edges = graph.links
    .filter((link) => ids.has(link.sourceRecordId) && ids.has(link.targetRecordId))
    .map((link) => ({
      data: {
        id: link.id, source: link.sourceRecordId, target: link.targetRecordId,
        confidence: link.confidence, method: link.method,
      },
      classes: link.feedback === "negative" ? "rejected" : "",
    }));
  return [...nodes, ...edges];
}

function style() {
  const rules = [
    {
      selector: "node",
      style: {
        label: "data(label)", "font-size": 11, color: "#1b1f24", "text-valign": "bottom",
        "text-margin-y": 4, "text-background-color": "#ffffff", "text-background-opacity": 0.85,
        "text-background-padding": 2, width: 22, height: 22, "border-width": 2,
        "border-color": "#ffffff",
      },
    },
    { selector: "node.centre", style: { width: 34, height: 34, "border-color": "#d4a72c",
      "border-width": 4 } },
    {
      selector: "edge",
      style: {
        width: "mapData(confidence, 0, 1, 1, 9)", "line-color": "#8c959f",
        "curve-style": "bezier",
      },
    },
    { selector: "edge.rejected", style: { "line-color": "#cf222e" } },
    { selector: ":selected", style: { "overlay-color": "#0969da", "overlay-opacity": 0.25 } },
  ];
  for (const [platform, colour] of Object.entries(PLATFORM_COLOURS)) {
    rules.push({ selector: `node[platform = "${platform}"]`,
      style: { "background-color": colour } });
  }
  for (const [method, line] of Object.entries(METHOD_LINES)) {
    rules.push({ selector: `edge[method = "${method}"]`, style: { "line-style": line } });
  }
  return rules;
}

// Draws into container; returns the cytoscape instance, or null without the library.
export function drawGraph(container, graph, { centreId, onNode, onEdge }) {
  if (typeof window.cytoscape !== "function") {
    container.replaceChildren(h("p", { class: "error" },
      "The graph library is not installed; the lists show the same graph."));
    return null;
  }
  const centred = graph.nodes.some((node) => node.id === centreId);
  const cy = window.cytoscape({
    container, elements: elements(graph, centreId), style: style(), minZoom: 0.2, maxZoom: 3,
    // Around a record: rings by distance from it. A group has no centre: a force layout.
    layout: centred
      ? { name: "breadthfirst", roots: [centreId], circle: true, spacingFactor: 1.2,
        animate: false, padding: 40 }
      : { name: "cose", animate: false, randomize: true, idealEdgeLength: () => 140,
        nodeRepulsion: () => 80000, padding: 40 },
  });
  cy.on("tap", "node", (event) => onNode(event.target.id()));
  cy.on("tap", "edge", (event) => onEdge(event.target.id()));
  container.dataset.nodes = String(cy.nodes().length);
  container.dataset.edges = String(cy.edges().length);
  return cy;
}
