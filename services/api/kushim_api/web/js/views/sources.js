// Data sources: list, create (the webhook address and secret are shown once), delete.
import { api, path, PLATFORMS } from "../api.js";
import { errorBox, field, h, platformBadge, select, status, when } from "../dom.js";
import { reload } from "../navigate.js";

const WEBHOOK_PLATFORMS = new Set(["github", "slack", "jira"]);

function randomSecret() {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function sourcesView() {
  let page;
  try {
    page = await api("GET", "/data-sources?limit=100");
  } catch (error) {
    return h("section", {}, h("h2", { tabindex: "-1" }, "Data sources"), errorBox(error));
  }
  const created = h("div", { "aria-live": "polite" });
  const platform = select("platform", PLATFORMS.map((p) => [p, p]), "github");
  const name = h("input", { type: "text", name: "name", maxlength: "200", required: true });
  const secret = h("input", { type: "text", name: "webhookSecret", maxlength: "256",
    minlength: "16", autocomplete: "off", spellcheck: "false" });
  const form = h("form", { class: "inline-form", onsubmit: async (event) => {
    event.preventDefault();
    const body = { platform: platform.value, name: name.value };
    if (WEBHOOK_PLATFORMS.has(platform.value)) body.webhookSecret = secret.value || randomSecret();
    try {
      const source = await api("POST", "/data-sources", body);
      form.reset();
      created.replaceChildren(createdNotice(source, body.webhookSecret));
      const fresh = await api("GET", "/data-sources?limit=100");
      list.replaceChildren(...rows(fresh.items));
    } catch (error) {
      created.replaceChildren(errorBox(error));
    }
  } },
  field("Platform", platform), field("Name", name),
  field("Webhook secret (blank: generate one; for Slack paste the app's signing secret)",
    secret),
  h("button", { type: "submit" }, "Create"));
  const list = h("tbody", {}, rows(page.items));
  return h("section", {}, h("h2", { tabindex: "-1" }, "Data sources"),
    h("table", { class: "results sources" },
      h("thead", {}, h("tr", {}, ["Name", "Platform", "Webhook address", "Created", ""]
        .map((label) => h("th", { scope: "col" }, label)))), list),
    h("h3", {}, "Connect a platform"), form, created);
}

function webhookUrl(source) {
  return source.webhookPath ? new URL(source.webhookPath, window.location.origin).href : "";
}

function createdNotice(source, secret) {
  return h("div", { class: "notice", role: "alert" },
    h("p", {}, `Created ${source.name}. `, source.webhookPath
      ? "Give the platform this address and secret now: the secret is not shown again."
      : "This platform has no webhook; upload its records as JSONL."),
    source.webhookPath ? h("dl", { class: "facts" },
      h("dt", {}, "Webhook address"), h("dd", {}, h("code", { class: "webhook-url" },
        webhookUrl(source))),
      h("dt", {}, "Secret"), h("dd", {}, h("code", { class: "webhook-secret" }, secret)))
      : null);
}

function rows(items) {
  if (!items.length) return [h("tr", {}, h("td", { colspan: "5" }, "No data sources yet."))];
  return items.map((source) => {
    const outcome = status();
    const remove = h("button", { type: "button", class: "danger", onclick: async () => {
      if (remove.dataset.armed !== "yes") {
        remove.dataset.armed = "yes";
        remove.textContent = "Confirm delete";
        return;
      }
      try {
        await api("DELETE", path`/data-sources/${source.id}`);
        reload();
      } catch (error) {
        outcome.replaceChildren(errorBox(error));
      }
    } }, "Delete");
    return h("tr", { dataset: { sourceId: source.id } }, h("td", {}, source.name),
      h("td", {}, platformBadge(source.platform)),
      h("td", {}, source.webhookPath ? h("code", {}, webhookUrl(source)) : "—"),
      h("td", {}, when(source.createdAt)), h("td", {}, remove, outcome));
  });
}
