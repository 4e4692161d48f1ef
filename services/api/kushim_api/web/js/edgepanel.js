// A link's explanation (score, method, the signals that fired) and its feedback buttons.
import { api, path } from "./api.js";
import { errorBox, h, status } from "./dom.js";

export function edgePanel(onFeedback) {
  const body = h("div", { class: "panel-body" });
  const heading = h("h3", { tabindex: "-1" }, "Link explanation");
  const panel = h("section", { class: "edge-panel", "aria-label": "Link explanation",
    hidden: true }, heading, body);
  let opener = null;

  function close() {
    panel.hidden = true;
    if (opener && opener.isConnected) opener.focus();
  }
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") close();
  });

  async function open(linkId, describe) {
    opener = document.activeElement;
    panel.hidden = false;
    body.replaceChildren(status("Loading…"));
    heading.focus();
    let explanation;
    try {
      explanation = await api("GET", path`/links/${linkId}/explanation`);
    } catch (error) {
      body.replaceChildren(errorBox(error), closeButton());
      return;
    }
    const outcome = status();
    const feedbackButton = (value, text) => h("button", {
      type: "button", class: `feedback-${value}`, "data-feedback": value,
      onclick: async () => {
        try {
          const link = await api("POST", path`/links/${linkId}/feedback`, { feedback: value });
          outcome.textContent = `Feedback recorded: ${link.feedback}`;
          onFeedback?.(link);
        } catch (error) {
          outcome.replaceChildren(errorBox(error));
        }
      },
    }, text);
    body.replaceChildren(
      h("p", { class: "link-ends" }, describe),
      h("dl", { class: "facts" },
        h("dt", {}, "Score"), h("dd", { class: "score" }, explanation.score.toFixed(2)),
        h("dt", {}, "Type"), h("dd", {}, explanation.type),
        h("dt", {}, "Method"), h("dd", { class: "method" }, explanation.method)),
      explanation.signals.length
        ? h("table", { class: "signals" },
          h("caption", {}, "Signals"),
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Signal"),
            h("th", { scope: "col" }, "Weight"), h("th", { scope: "col" }, "Detail"))),
          h("tbody", {}, explanation.signals.map((signal) => h("tr", {},
            h("td", {}, signal.name), h("td", {}, signal.weight.toFixed(2)),
            h("td", {}, signal.detail)))))
        : h("p", {}, "No signals recorded (a manual link)."),
      h("div", { class: "actions", role: "group", "aria-label": "Is this link right?" },
        feedbackButton("positive", "Right link"), feedbackButton("negative", "Wrong link"),
        closeButton()),
      outcome,
    );
  }

  function closeButton() {
    return h("button", { type: "button", class: "secondary", onclick: close }, "Close");
  }

  return { element: panel, open };
}
