// The footer's service status from /health/ready: ok, degraded (with what is down) or down.
import { h } from "./dom.js";

const EVERY_MS = 15000;

async function check(target) {
  let state;
  let dependencies = {};
  try {
    const response = await fetch("/health/ready", { cache: "no-store", credentials: "omit" });
    const body = await response.json();
    state = body.status ?? (response.ok ? "ok" : "down");
    dependencies = body.dependencies ?? {};
  } catch {
    state = "down";
  }
  const failing = Object.entries(dependencies).filter(([, value]) => value !== "ok")
    .map(([name, value]) => `${name} ${value}`);
  target.className = `health health-${state}`;
  target.dataset.state = state;
  target.replaceChildren(h("strong", {}, `Service: ${state}`),
    failing.length ? ` (${failing.join(", ")})` : "");
}

export function watchHealth(target) {
  check(target);
  window.setInterval(() => check(target), EVERY_MS);
}
