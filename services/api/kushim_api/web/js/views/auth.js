// Sign in, or create an account, with email and password.
import { api, session } from "../api.js";
import { errorBox, field, h } from "../dom.js";
import { navigate } from "../navigate.js";

export function authView() {
  const email = h("input", { type: "email", name: "email", autocomplete: "username",
    required: true });
  const password = h("input", { type: "password", name: "password", minlength: "8",
    autocomplete: "current-password", required: true });
  const message = h("div", { "aria-live": "polite" });

  async function submit(kind) {
    if (!form.reportValidity()) return;
    const body = { email: email.value.trim(), password: password.value };
    try {
      const answer = await api("POST", kind === "register" ? "/auth/register" : "/auth/login",
        body);
      session.signIn(answer.token);
      password.value = "";
      navigate(kind === "register" ? "#/ingest" : "#/search");
    } catch (error) {
      message.replaceChildren(errorBox(error));
    }
  }

  const form = h("form", { class: "auth", onsubmit: (event) => {
    event.preventDefault();
    submit("login");
  } },
  h("h2", { tabindex: "-1" }, "Sign in"),
  field("Email", email), field("Password (at least 8 characters)", password),
  h("div", { class: "actions" },
    h("button", { type: "submit", id: "sign-in" }, "Sign in"),
    h("button", { type: "button", id: "register", class: "secondary",
      onclick: () => submit("register") }, "Create account")),
  message);
  return form;
}
