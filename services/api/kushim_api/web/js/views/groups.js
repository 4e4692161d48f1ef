// Context groups: the list, and one group with its members, graph, rename, merge and split.
import { api, path } from "../api.js";
import { errorBox, field, h, platformBadge, select, status, when } from "../dom.js";
import { graphView } from "../graphview.js";
import { navigate, reload } from "../navigate.js";

export async function groupsView() {
  let page;
  try {
    page = await api("GET", "/context-groups?limit=100");
  } catch (error) {
    return h("section", {}, h("h2", { tabindex: "-1" }, "Context groups"), errorBox(error));
  }
  return h("section", {}, h("h2", { tabindex: "-1" }, "Context groups"),
    page.items.length
      ? h("table", { class: "results groups" },
        h("thead", {}, h("tr", {}, ["Name", "Records", "Coherence", "Topics", "Updated"]
          .map((name) => h("th", { scope: "col" }, name)))),
        h("tbody", {}, page.items.map((group) => h("tr", { dataset: { groupId: group.id } },
          h("td", {}, h("a", { href: `#/groups/${encodeURIComponent(group.id)}` }, group.name)),
          h("td", {}, String(group.memberCount)), h("td", {}, group.coherence.toFixed(2)),
          h("td", {}, group.topics.join(", ")), h("td", {}, when(group.updatedAt))))))
      : h("p", { class: "empty" },
        "No groups yet: Kushim creates them as it links uploaded records."));
}

export async function groupView(groupId) {
  let group;
  let graph;
  let others;
  try {
    [group, graph, others] = await Promise.all([
      api("GET", path`/context-groups/${groupId}`),
      api("GET", path`/context-groups/${groupId}/graph`),
      api("GET", "/context-groups?limit=100"),
    ]);
  } catch (error) {
    return h("section", {}, h("h2", { tabindex: "-1" }, "Context group"), errorBox(error));
  }
  const outcome = status();
  const act = async (work) => {
    try {
      await work();
    } catch (error) {
      outcome.replaceChildren(errorBox(error));
    }
  };

  const name = h("input", { type: "text", name: "name", value: group.name, maxlength: "200",
    required: true });
  const rename = h("form", { class: "inline-form", onsubmit: (event) => {
    event.preventDefault();
    act(async () => {
      await api("PATCH", path`/context-groups/${groupId}`, { name: name.value });
      reload();
    });
  } }, field("Name", name), h("button", { type: "submit" }, "Rename"));

  const candidates = others.items.filter((other) => other.id !== groupId);
  const source = select("sourceGroupId",
    candidates.map((other) => [other.id, `${other.name} (${other.memberCount})`]));
  const merge = candidates.length ? h("form", { class: "inline-form", onsubmit: (event) => {
    event.preventDefault();
    act(async () => {
      await api("POST", path`/context-groups/${groupId}/merge`, { sourceGroupId: source.value });
      reload();
    });
  } }, field("Merge into this group", source), h("button", { type: "submit" }, "Merge"))
    : null;

  const split = h("button", { type: "button", class: "secondary split", onclick: () => act(async () => {
    try {
      const answer = await api("POST", path`/context-groups/${groupId}/split`);
      outcome.replaceChildren(h("p", {}, "Split into: ", answer.groups.map((made, i) => [
        i ? ", " : "", h("a", { href: `#/groups/${encodeURIComponent(made.id)}` }, made.name)])));
    } catch (error) {
      if (error.status !== 409) throw error;
      outcome.textContent = `Not split: ${error.message}`;
    }
  }) }, "Split by connected parts");

  return h("section", { class: "group" },
    h("h2", { tabindex: "-1" }, group.name),
    h("p", { class: "meta" }, `${group.memberCount} records · coherence `,
      group.coherence.toFixed(2), group.topics.length ? ` · ${group.topics.join(", ")}` : ""),
    h("div", { class: "group-actions" }, rename, merge, split), outcome,
    h("h3", {}, "Members"),
    h("ul", { class: "members" }, group.members.map((member) => h("li", {
      dataset: { recordId: member.id } }, platformBadge(member.sourcePlatform), " ",
    member.artifactType, " ", h("a", { href: `#/records/${encodeURIComponent(member.id)}` },
      member.title || member.externalId)))),
    h("h3", {}, "Graph of the links inside the group"),
    graphView(graph, { onNode: (id) => {
      navigate(`#/records/${encodeURIComponent(id)}`);
    } }));
}
