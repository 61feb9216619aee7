// The console's shell: sign-in, the side navigation and a hash router (#/, #/subscriptions,
// #/subscriptions/<id>), so the page works under any URL prefix and inside a host's iframe.
import { api, ApiError, graphql, listenForHostToken, onTokenChange, setToken, signIn, takeTokenFromFragment } from "./api.js";
import { drawCharts } from "./charts.js";
import { clear, el, notice } from "./ui.js";

const PAGES = [
  { pattern: /^\/?$/, nav: "overview", load: () => import("./pages/overview.js") },
  { pattern: /^\/subscriptions\/?$/, nav: "subscriptions", load: () => import("./pages/subscriptions.js") },
  { pattern: /^\/subscriptions\/([^/]+)$/, nav: "subscriptions", load: () => import("./pages/subscription.js") },
];

const main = document.getElementById("main");
const flashBox = document.getElementById("flash");
const context = {
  currency: null,
  user: null,
  flash(text) {
    clear(flashBox, notice(text, "success"));
  },
};

function route() {
  const hash = window.location.hash.replace(/^#/, "") || "/";
  const [path, query] = hash.split("?");
  return { path, params: new URLSearchParams(query || "") };
}

function setBusy(busy) {
  document.body.dataset.state = busy ? "loading" : "ready";
}

async function whoAmI() {
  const data = await graphql("query ConsoleWhoAmI { shop { defaultCurrency } me { email isStaff } }");
  context.currency = new URLSearchParams(window.location.search).get("currency") || data.shop.defaultCurrency;
  context.user = data.me;
  document.getElementById("who").textContent = data.me ? data.me.email : "App";
}

function showSignIn(error) {
  document.body.dataset.signedIn = "no";
  const email = el("input", { type: "email", name: "email", autocomplete: "username", required: true, placeholder: "E-mail" });
  const password = el("input", { type: "password", name: "password", autocomplete: "current-password", required: true, placeholder: "Password" });
  const message = el("div", {}, error ? notice(error, "error") : null);
  const form = el("form", { class: "signin card", onsubmit: async (event) => {
    event.preventDefault();
    clear(message);
    try {
      await signIn(email.value, password.value);
    } catch (problem) {
      clear(message, notice(problem.message, "error"));
    }
  } },
  el("h1", {}, "Subscriptions"),
  el("p", { class: "muted" }, "Sign in with your Saleor staff account."),
  message, email, password,
  el("button", { class: "button", type: "submit" }, "Sign in"));
  clear(main, form);
  setBusy(false);
}

async function show() {
  clear(flashBox);
  if (!api.token) return showSignIn();
  setBusy(true);
  const { path, params } = route();
  const page = PAGES.find((candidate) => candidate.pattern.test(path)) || PAGES[0];
  document.querySelectorAll("[data-nav]").forEach((link) => link.classList.toggle("active", link.dataset.nav === page.nav));
  try {
    if (!context.currency) await whoAmI();
    document.body.dataset.signedIn = "yes";
    const module = await page.load();
    const match = path.match(page.pattern);
    await module.render(main, context, params, match && match[1] ? decodeURIComponent(match[1]) : null);
    drawCharts();
  } catch (error) {
    // An expired or foreign token, or an account without the permission: sign in again.
    const signedOut = /signature has expired|error decoding|invalid token/i.test(error.message);
    if (error instanceof ApiError && (signedOut || (/permission/i.test(error.message) && !context.currency))) {
      context.currency = null;
      setToken(null);
      return showSignIn(error.message);
    }
    clear(main, notice(error.message, "error"));
    console.error(error);
  } finally {
    setBusy(false);
  }
}

document.getElementById("signout").addEventListener("click", () => {
  context.currency = null;
  setToken(null);
});
takeTokenFromFragment();
listenForHostToken();
onTokenChange(() => {
  context.currency = null;
  show();
});
window.addEventListener("hashchange", show);
show();
