// Record search: text, platform and type filters; each result opens the record's graph.
import { api, ARTIFACT_TYPES, PLATFORMS } from "../api.js";
import { errorBox, field, h, platformBadge, select, when } from "../dom.js";
import { navigate } from "../navigate.js";

const PAGE = 50;

export async function searchView(query) {
  const text = h("input", { type: "search", name: "search", value: query.get("search") ?? "",
    maxlength: "500" });
  const source = select("source", [["", "any platform"], ...PLATFORMS.map((p) => [p, p])],
    query.get("source") ?? "");
  const type = select("type", [["", "any type"], ...ARTIFACT_TYPES.map((t) => [t, t])],
    query.get("type") ?? "");
  const offset = Number.parseInt(query.get("offset") ?? "0", 10) || 0;
  const form = h("form", { class: "filters", role: "search", onsubmit: (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const [key, control] of [["search", text], ["source", source], ["type", type]]) {
      if (control.value) next.set(key, control.value);
    }
    navigate(`#/search?${next}`);
  } },
  field("Text", text), field("Platform", source), field("Type", type),
  h("button", { type: "submit" }, "Search"));

  const params = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
  for (const key of ["search", "source", "type"]) {
    if (query.get(key)) params.set(key, query.get(key));
  }
  let results;
  try {
    const page = await api("GET", `/records?${params}`);
    results = resultsTable(page, query, offset);
  } catch (error) {
    results = errorBox(error);
  }
  return h("section", {}, h("h2", { tabindex: "-1" }, "Records"), form, results);
}

function resultsTable(page, query, offset) {
  if (!page.items.length) {
    return h("p", { class: "empty" },
      page.total ? "No more results." : "No records match. Upload some on the Upload page.");
  }
  const pager = [];
  const move = (to) => {
    const next = new URLSearchParams(query);
    next.set("offset", String(to));
    return `#/search?${next}`;
  };
  if (offset > 0) pager.push(h("a", { href: move(Math.max(0, offset - PAGE)) }, "Previous"));
  if (offset + page.items.length < page.total) {
    pager.push(h("a", { href: move(offset + PAGE) }, "Next"));
  }
  return h("div", {},
    h("p", { class: "status" },
      `${offset + 1}–${offset + page.items.length} of ${page.total} records`),
    h("table", { class: "results" },
      h("thead", {}, h("tr", {}, ["Title", "Platform", "Type", "Author", "When"]
        .map((name) => h("th", { scope: "col" }, name)))),
      h("tbody", {}, page.items.map((record) => h("tr", { dataset: { recordId: record.id } },
        h("td", {}, h("a", { href: `#/records/${encodeURIComponent(record.id)}`,
          class: "title" }, record.title || record.externalId)),
        h("td", {}, platformBadge(record.sourcePlatform)),
        h("td", {}, record.artifactType), h("td", {}, record.author),
        h("td", {}, when(record.timestamp)))))),
    h("nav", { class: "pager", "aria-label": "Result pages" }, pager));
}
