// The page's router: the hash names the view (#/search, #/records/ID, #/groups, #/groups/ID,
// #/sources, #/ingest); without a token every view is the sign-in form.
import { session } from "./api.js";
import { errorBox, h } from "./dom.js";
import { watchHealth } from "./health.js";
import { authView } from "./views/auth.js";
import { groupsView, groupView } from "./views/groups.js";
import { ingestView } from "./views/ingest.js";
import { recordView } from "./views/record.js";
import { searchView } from "./views/search.js";
import { sourcesView } from "./views/sources.js";
import { navigate } from "./navigate.js";

const ROUTES = [
  [/^\/search$/, (_, query) => searchView(query)],
  [/^\/records\/([^/]+)$/, (match, query) => recordView(decodeURIComponent(match[1]), query)],
  [/^\/groups$/, () => groupsView()],
  [/^\/groups\/([^/]+)$/, (match) => groupView(decodeURIComponent(match[1]))],
  [/^\/sources$/, () => sourcesView()],
  [/^\/ingest$/, () => ingestView()],
];

const main = document.getElementById("main");
const nav = document.getElementById("nav");
let rendering = 0;

function currentRoute() {
  const [route, search = ""] = window.location.hash.replace(/^#/, "").split("?");
  return { route: route || "/search", query: new URLSearchParams(search) };
}

async function render() {
  const mine = ++rendering;
  const signedIn = Boolean(session.token);
  nav.hidden = !signedIn;
  const { route, query } = currentRoute();
  let view;
  if (!signedIn) {
    view = authView();
  } else {
    const found = ROUTES.map(([pattern, make]) => [route.match(pattern), make])
      .find(([match]) => match);
    main.setAttribute("aria-busy", "true");
    try {
      view = found ? await found[1](found[0], query) : h("p", {}, "No such page.");
    } catch (error) {
      view = errorBox(error);
    }
  }
  if (mine !== rendering) return; // a newer navigation won
  main.replaceChildren(view);
  main.removeAttribute("aria-busy");
  for (const link of nav.querySelectorAll("a")) {
    if (route.startsWith(link.getAttribute("href").slice(1))) link.setAttribute("aria-current",
      "page");
    else link.removeAttribute("aria-current");
  }
  for (const section of main.querySelectorAll(".graph-section")) section.draw?.();
  (main.querySelector("h2") ?? main).focus();
}

document.getElementById("sign-out").addEventListener("click", () => session.signOut());
session.onSignedOut(() => {
  navigate("#/search");
});
window.addEventListener("hashchange", render);
watchHealth(document.getElementById("health"));
render();
