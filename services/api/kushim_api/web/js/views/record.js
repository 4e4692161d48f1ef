// One record and its context graph (depth 1–3); clicking a node re-centres on it.
import { api, path } from "../api.js";
import { errorBox, h, platformBadge, safeUrl, select, when } from "../dom.js";
import { graphView } from "../graphview.js";
import { navigate } from "../navigate.js";

export async function recordView(recordId, query) {
  const depth = ["1", "2", "3"].includes(query.get("depth")) ? query.get("depth") : "2";
  const go = (id, d = depth) => {
    navigate(`#/records/${encodeURIComponent(id)}?depth=${d}`);
  };
  let record;
  let context;
  try {
    [record, context] = await Promise.all([
      api("GET", path`/records/${recordId}`),
      api("GET", `${path`/records/${recordId}/context`}?depth=${depth}`),
    ]);
  } catch (error) {
    return h("section", {}, h("h2", { tabindex: "-1" }, "Record"), errorBox(error));
  }
  const url = safeUrl(record.url ?? "");
  const depthControl = select("depth", [["1", "1"], ["2", "2"], ["3", "3"]], depth);
  depthControl.addEventListener("change", () => go(recordId, depthControl.value));
  return h("section", { class: "record" },
    h("h2", { tabindex: "-1", class: "record-title" }, record.title || record.externalId),
    h("p", { class: "meta" }, platformBadge(record.sourcePlatform), " ", record.artifactType,
      " · ", record.externalId, " · by ", record.author, " · ", when(record.timestamp),
      url ? [" · ", h("a", { href: url, rel: "noopener noreferrer", target: "_blank" },
        "open original")] : null),
    record.body ? h("pre", { class: "record-body" }, record.body) : null,
    context.groups.length
      ? h("p", { class: "groups" }, "In groups: ", context.groups.map((group, i) => [
        i ? ", " : "", h("a", { href: `#/groups/${encodeURIComponent(group.id)}` }, group.name)]))
      : null,
    h("div", { class: "graph-header" }, h("h3", {}, "Context graph"),
      h("label", { class: "field inline" }, h("span", {}, "Depth"), depthControl)),
    graphView(context, { centreId: recordId, onNode: (id) => go(id) }));
}
