// The public HTTP API, same origin. The bearer token lives in sessionStorage only (never in a
// URL), so it ends with the tab and is not sent anywhere but to this origin's API.

const TOKEN_KEY = "kushim.token";
const signedOutListeners = [];

export const PLATFORMS = ["github", "jira", "slack", "google", "other"];
export const ARTIFACT_TYPES = [
  "issue", "pull_request", "task", "message", "document", "email", "commit",
];

export const session = {
  get token() {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  signIn(token) {
    sessionStorage.setItem(TOKEN_KEY, token);
  },
  signOut() {
    sessionStorage.removeItem(TOKEN_KEY);
    for (const listener of signedOutListeners) listener();
  },
  onSignedOut(listener) {
    signedOutListeners.push(listener);
  },
};

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export function path(strings, ...values) {
  return strings.reduce(
    (out, part, i) => out + part + (i < values.length ? encodeURIComponent(values[i]) : ""), "");
}

export async function api(method, url, body) {
  const headers = { Accept: "application/json" };
  const token = session.token;
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit", cache: "no-store",
    });
  } catch {
    throw new ApiError(0, "network", "The server could not be reached", {});
  }
  if (response.status === 204) return null;
  let payload = null;
  try {
    payload = await response.json();
  } catch {
    payload = null;
  }
  if (!response.ok) {
    const error = payload?.error ?? {};
    if (response.status === 401 && token) session.signOut();
    throw new ApiError(response.status, error.code ?? "http_error",
      error.message ?? `the server answered ${response.status}`, error.details ?? {});
  }
  return payload;
}
