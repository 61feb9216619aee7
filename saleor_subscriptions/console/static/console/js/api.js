// The console's only way to the store: POST GraphQL documents to the public API.
//
// Where the API is and who we are comes from, in this order: `?apiUrl=` and a token handed over
// by a host (Saleor 3.x's dashboard mounting us as an App extension posts it, or puts it in the
// URL fragment as `#token=`), else `/graphql/` on this origin and the console's own sign-in.

const TOKEN_KEY = "subscriptionsConsole.token";

// A browser that blocks storage for framed pages (an App extension in another site's dashboard)
// throws on any use of sessionStorage: the token then lives in memory, for this page only.
function stored() {
  try {
    return window.sessionStorage;
  } catch (error) {
    return null;
  }
}

function apiUrlFromLocation() {
  const given = new URLSearchParams(window.location.search).get("apiUrl");
  return new URL(given || "/graphql/", window.location.href).toString();
}

export const api = {
  url: apiUrlFromLocation(),
  token: stored() ? stored().getItem(TOKEN_KEY) : null,
  listeners: [],
};

// A JWT (three dot-separated parts) goes with the `JWT` prefix, which Saleor 2.10 and 3.x both
// accept; anything else is a Saleor 2.10 App token (`Bearer`).
function authorization(token) {
  return (token.split(".").length === 3 ? "JWT " : "Bearer ") + token;
}

export function setToken(token) {
  api.token = token || null;
  const storage = stored();
  if (storage && token) storage.setItem(TOKEN_KEY, token);
  else if (storage) storage.removeItem(TOKEN_KEY);
  api.listeners.forEach((listener) => listener(api.token));
}

export function onTokenChange(listener) {
  api.listeners.push(listener);
}

// `#token=…` (optionally followed by `&route=/subscriptions`) is read once and taken out of the
// address bar, so the token is not left in the history.
export function takeTokenFromFragment() {
  const fragment = window.location.hash.replace(/^#/, "");
  if (!fragment.startsWith("token=")) return;
  const params = new URLSearchParams(fragment);
  setToken(params.get("token"));
  const route = params.get("route") || "/";
  window.history.replaceState(null, "", window.location.pathname + window.location.search + "#" + route);
}

// Saleor 3.x's App bridge sends {type: "handshake", payload: {token}} (and "token-refresh" later);
// only our parent frame may hand us a token.
export function listenForHostToken() {
  window.addEventListener("message", (event) => {
    if (window.parent === window || event.source !== window.parent) return;
    const message = event.data || {};
    const token = (message.payload && message.payload.token) || message.token;
    if (["handshake", "token", "token-refresh"].includes(message.type) && token) setToken(token);
  });
}

export class ApiError extends Error {}

export async function graphql(query, variables, options) {
  const headers = { "Content-Type": "application/json" };
  if (api.token) headers.Authorization = authorization(api.token);
  let response;
  try {
    response = await fetch(api.url, {
      method: "POST", headers, body: JSON.stringify({ query, variables: variables || {} }),
    });
  } catch (error) {
    throw new ApiError("The API at " + api.url + " did not answer.");
  }
  let body;
  try {
    body = await response.json();
  } catch (error) {
    throw new ApiError("The API answered " + response.status + " without JSON.");
  }
  // A partly answered document (one field refused) is still an error unless asked for.
  if (body.errors && body.errors.length && !(options && options.partial && body.data)) {
    throw new ApiError(body.errors.map((error) => error.message).join("; "));
  }
  return body.data;
}

// A mutation's payload; its typed errors (`…Errors`) become an ApiError with their messages.
export async function mutate(query, variables) {
  const data = await graphql(query, variables);
  const payload = Object.values(data)[0] || {};
  const errors = Object.keys(payload)
    .filter((key) => key.endsWith("rrors") && key !== "errors")
    .flatMap((key) => payload[key] || []);
  if (errors.length) {
    throw new ApiError(errors.map((e) => (e.field ? e.field + ": " : "") + e.message + " (" + e.code + ")").join("; "));
  }
  return payload;
}

// The names of Query's fields: the overview shows the metrics this API has.
let queryFields = null;
export async function availableQueries() {
  if (!queryFields) {
    const data = await graphql('{ __type(name: "Query") { fields { name } } }');
    queryFields = new Set(data.__type.fields.map((field) => field.name));
  }
  return queryFields;
}

const TOKEN_CREATE = `
mutation ConsoleSignIn($email: String!, $password: String!) {
  tokenCreate(email: $email, password: $password) {
    token
    user { email isStaff }
    accountErrors { field message code }
  }
}`;

export async function signIn(email, password) {
  const payload = await mutate(TOKEN_CREATE, { email, password });
  if (!payload.user || !payload.user.isStaff) {
    throw new ApiError("This account is not a staff account.");
  }
  setToken(payload.token);
  return payload.user;
}
