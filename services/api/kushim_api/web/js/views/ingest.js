// Upload a JSONL file (one record per line) in batches through POST /records, with a progress
// bar and the outcome counts. A line that is not a JSON object is counted as rejected here.
import { api } from "../api.js";
import { errorBox, field, h } from "../dom.js";

const BATCH_RECORDS = 100;
const BATCH_BYTES = 1024 * 1024; // well under the gateway's body limit
const SHOWN_REJECTIONS = 20;
const OUTCOMES = ["created", "updated", "unchanged", "rejected"];

function parseLines(text) {
  const records = [];
  const rejected = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (!line.trim()) return;
    let value;
    try {
      value = JSON.parse(line);
    } catch {
      rejected.push({ line: i + 1, message: "not valid JSON" });
      return;
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      rejected.push({ line: i + 1, message: "not a JSON object" });
      return;
    }
    records.push({ line: i + 1, record: value, bytes: line.length });
  });
  return { records, rejected };
}

function batches(records) {
  const out = [];
  let current = [];
  let bytes = 0;
  for (const item of records) {
    if (current.length && (current.length >= BATCH_RECORDS || bytes + item.bytes > BATCH_BYTES)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += item.bytes;
  }
  if (current.length) out.push(current);
  return out;
}

export function ingestView() {
  const file = h("input", { type: "file", name: "file", accept: ".jsonl,.ndjson,.json,text/plain",
    required: true });
  const progress = h("progress", { max: "1", value: "0", "aria-label": "Upload progress" });
  const progressText = h("span", { class: "status", role: "status", "aria-live": "polite" });
  const counts = Object.fromEntries(OUTCOMES.map((name) => [name, h("dd", {
    class: `count-${name}` }, "0")]));
  const linksMade = h("dd", { class: "count-links" }, "0");
  const summary = h("dl", { class: "facts counts", hidden: true },
    OUTCOMES.map((name) => [h("dt", {}, name), counts[name]]), h("dt", {}, "links made"),
    linksMade);
  const problems = h("div");
  const submit = h("button", { type: "submit" }, "Upload");

  async function upload(chosen) {
    const tally = { created: 0, updated: 0, unchanged: 0, rejected: 0, links: 0 };
    const shown = () => {
      for (const name of OUTCOMES) counts[name].textContent = String(tally[name]);
      linksMade.textContent = String(tally.links);
    };
    const { records, rejected } = parseLines(await chosen.text());
    tally.rejected = rejected.length;
    const lines = records.length + rejected.length;
    const groups = batches(records);
    progress.max = Math.max(1, groups.length);
    progress.value = 0;
    summary.hidden = false;
    shown();
    for (const [i, group] of groups.entries()) {
      progressText.textContent = `Batch ${i + 1} of ${groups.length}…`;
      try {
        const answer = await api("POST", "/records", { records: group.map((x) => x.record) });
        for (const result of answer.results) {
          tally[result.status] += 1;
          tally.links += result.links?.length ?? 0;
          if (result.status === "rejected") {
            rejected.push({ line: group[result.index]?.line, message: [
              result.error?.field, result.error?.message].filter(Boolean).join(": ") });
          }
        }
      } catch (error) {
        progressText.textContent = "";
        problems.replaceChildren(errorBox(error), h("p", {},
          `Stopped at batch ${i + 1}; the batches before it are stored.`));
        shown();
        return;
      }
      progress.value = i + 1;
      shown();
    }
    progressText.textContent = `Done: ${lines} lines read.`;
    problems.replaceChildren(rejected.length ? h("div", {},
      h("h3", {}, "Rejected lines"),
      h("ul", { class: "rejections" }, rejected.slice(0, SHOWN_REJECTIONS).map((item) =>
        h("li", {}, `line ${item.line}: ${item.message}`))),
      rejected.length > SHOWN_REJECTIONS
        ? h("p", {}, `… and ${rejected.length - SHOWN_REJECTIONS} more.`) : null) : "");
  }

  const form = h("form", { class: "ingest", onsubmit: async (event) => {
    event.preventDefault();
    if (!file.files.length) return;
    submit.disabled = true;
    problems.replaceChildren();
    try {
      await upload(file.files[0]);
    } finally {
      submit.disabled = false;
    }
  } },
  field("JSONL file, one record per line", file), submit);
  return h("section", {}, h("h2", { tabindex: "-1" }, "Upload records"),
    h("p", {}, "Each line is one record: externalId, sourcePlatform, artifactType, title, ",
      "body, author, timestamp, and optionally url, participants and metadata. Kushim links ",
      "them as they arrive."),
    form, h("div", { class: "progress" }, progress, " ", progressText), summary, problems);
}
