// The subscriptions list: search by e-mail, filter by status and plan, page through, export all.
import { graphql } from "../api.js";
import { clear, date, el, humanize, money, statusChip, table } from "../ui.js";
import { STATUSES } from "./overview.js";

const PAGE = 50;
const LIST = `
query ConsoleSubscriptions($first: Int!, $after: String, $filter: SubscriptionFilterInput) {
  customerSubscriptions(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      id email status quantity createdAt nextBillingAt cancelReason
      plan { id name }
      unitPrice { amount currency }
    } }
  }
}`;

export const COLUMNS = [
  { label: "Customer", value: (row) => row.email },
  { label: "Plan", value: (row) => row.plan.name },
  { label: "Status", value: (row) => row.status, render: (row) => statusChip(row.status) },
  { label: "Quantity", value: (row) => row.quantity, numeric: true },
  { label: "Amount", value: (row) => (Number(row.unitPrice.amount) * row.quantity).toFixed(2),
    render: (row) => money(Number(row.unitPrice.amount) * row.quantity, row.unitPrice.currency), numeric: true },
  { label: "Currency", value: (row) => row.unitPrice.currency },
  { label: "Next billing", value: (row) => date(row.nextBillingAt) },
  { label: "Created", value: (row) => date(row.createdAt) },
  { label: "ID", value: (row) => row.id, csvOnly: true },
];

function filterFrom(params) {
  const filter = {};
  if (params.get("status")) filter.status = [params.get("status")];
  if (params.get("plan")) filter.plans = [params.get("plan")];
  if (params.get("q")) filter.customerEmail = params.get("q");
  return filter;
}

async function fetchPage(filter, after) {
  const data = await graphql(LIST, { first: PAGE, after: after || null, filter });
  return data.customerSubscriptions;
}

async function fetchAll(filter) {
  const rows = [];
  let after = null;
  for (;;) {
    const page = await graphql(LIST, { first: 100, after, filter });
    rows.push(...page.customerSubscriptions.edges.map((edge) => edge.node));
    if (!page.customerSubscriptions.pageInfo.hasNextPage || rows.length >= 100000) return rows;
    after = page.customerSubscriptions.pageInfo.endCursor;
  }
}

export async function render(root, context, params) {
  const filter = filterFrom(params);
  const [first, plans] = await Promise.all([
    fetchPage(filter),
    graphql("query ConsolePlanNames { subscriptionPlans(first: 100, includeArchived: true) { edges { node { id name } } } }"),
  ]);
  const rows = first.edges.map((edge) => edge.node);
  let pageInfo = first.pageInfo;
  const go = (changes) => {
    const next = new URLSearchParams(params);
    Object.entries(changes).forEach(([key, value]) => (value ? next.set(key, value) : next.delete(key)));
    window.location.hash = "#/subscriptions" + (next.toString() ? "?" + next : "");
  };
  const search = el("input", { type: "search", name: "q", placeholder: "Search by customer e-mail", value: params.get("q") || "" });
  const form = el("form", { class: "filters", onsubmit: (event) => { event.preventDefault(); go({ q: search.value.trim() }); } },
    search,
    el("select", { name: "status", onchange: (event) => go({ status: event.target.value }) },
      el("option", { value: "" }, "All statuses"),
      STATUSES.map((status) => el("option", { value: status, selected: params.get("status") === status }, humanize(status)))),
    el("select", { name: "plan", onchange: (event) => go({ plan: event.target.value }) },
      el("option", { value: "" }, "All plans"),
      plans.subscriptionPlans.edges.map(({ node }) => el("option", { value: node.id, selected: params.get("plan") === node.id }, node.name))),
    el("button", { class: "button", type: "submit" }, "Search"));
  const holder = el("div");
  const more = el("button", { class: "button button-text", type: "button" }, "Load more");
  const draw = () => {
    clear(holder, table("subscriptions", COLUMNS, rows, {
      allRows: () => fetchAll(filter),
      onRowClick: (row) => { window.location.hash = "#/subscriptions/" + encodeURIComponent(row.id); },
      empty: "No subscription matches.",
    }));
    more.hidden = !pageInfo.hasNextPage;
  };
  more.addEventListener("click", async () => {
    const page = await fetchPage(filter, pageInfo.endCursor);
    rows.push(...page.edges.map((edge) => edge.node));
    pageInfo = page.pageInfo;
    draw();
  });
  draw();
  root.replaceChildren(
    el("div", { class: "page-header" }, el("h1", {}, "Subscriptions"),
      el("span", { class: "muted", dataset: { total: first.totalCount } }, first.totalCount + " found")),
    el("section", { class: "card" }, el("div", { class: "card-body" }, form, holder, more)));
}
