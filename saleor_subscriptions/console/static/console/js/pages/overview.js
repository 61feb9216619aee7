// The overview: KPI tiles, MRR over time with its movements, subscribers by status, churn, plans
// compared — and the cohort heat map, cancellation reasons and billing forecast when the API
// has them (availableQueries), so the page grows with the API without a change here.
import { availableQueries, graphql } from "../api.js";
import { chart, COLORS, money as axisMoney, SERIES } from "../charts.js";
import { card, el, humanize, money, notice, percent, table } from "../ui.js";

export const STATUSES = ["TRIALING", "ACTIVE", "PAST_DUE", "PAUSED", "CANCELLED", "EXPIRED"];
const STATUS_ALIASES = { TRIALING: "trialing", ACTIVE: "active", PAST_DUE: "pastDue", PAUSED: "paused", CANCELLED: "cancelled", EXPIRED: "expired" };
const STATUS_COLORS = [COLORS.blue, COLORS.teal, COLORS.amber, COLORS.purple, COLORS.red, COLORS.grey];
const MONTHS = 12;

let firstScreenDocument = null;
async function firstScreen() {
  if (!firstScreenDocument) {
    const response = await fetch(new URL("first_screen.graphql", document.baseURI));
    firstScreenDocument = await response.text();
  }
  return firstScreenDocument;
}

function monthStart(moment, back) {
  return new Date(Date.UTC(moment.getUTCFullYear(), moment.getUTCMonth() - (back || 0), 1));
}

// One document for the last twelve months: MRR at each month's end (or now) and its movements.
async function mrrHistory(currency, now) {
  const months = [];
  for (let back = MONTHS - 1; back >= 0; back -= 1) {
    const start = monthStart(now, back);
    const next = monthStart(now, back - 1);
    const end = back === 0 ? now : new Date(next.getTime() - 1000);
    months.push({ label: start.toISOString().slice(0, 7), start, end });
  }
  const fields = months.map((month, index) =>
    `m${index}: subscriptionMrr(currency: $currency, date: "${month.end.toISOString()}", start: "${month.start.toISOString()}") {
      mrr movements { new expansion contraction churn reactivation netNew } }`).join("\n");
  const data = await graphql(`query ConsoleMrrHistory($currency: String!) {\n${fields}\n}`, { currency });
  return months.map((month, index) => {
    const row = data["m" + index];
    const opening = index === 0 ? Number(row.mrr) - Number(row.movements.netNew) : Number(data["m" + (index - 1)].mrr);
    return Object.assign({ label: month.label, mrr: Number(row.mrr), opening },
      Object.fromEntries(Object.entries(row.movements).map(([kind, amount]) => [kind, Number(amount)])));
  });
}

async function plansCompared(currency) {
  const plans = await graphql(`query ConsolePlans {
    subscriptionPlans(first: 100, includeArchived: true) { edges { node {
      id name family intervalUnit intervalCount isActive price { amount currency } } } } }`);
  const nodes = plans.subscriptionPlans.edges.map((edge) => edge.node).filter((plan) => plan.price.currency === currency);
  if (!nodes.length) return [];
  const fields = nodes.map((plan, index) =>
    `p${index}: customerSubscriptions(first: 1, filter: {plans: ["${plan.id}"], status: [TRIALING, ACTIVE, PAST_DUE]}) { totalCount }
     c${index}: customerSubscriptions(first: 1, filter: {plans: ["${plan.id}"], status: [CANCELLED, EXPIRED]}) { totalCount }`).join("\n");
  const counts = await graphql(`query ConsolePlanCounts {\n${fields}\n}`);
  return nodes.map((plan, index) => ({
    plan, current: counts["p" + index].totalCount, ended: counts["c" + index].totalCount,
  }));
}

function tile(label, value, hint, name) {
  return el("div", { class: "tile", dataset: { kpi: name } },
    el("div", { class: "tile-label" }, label),
    el("div", { class: "tile-value" }, value),
    hint ? el("div", { class: "tile-hint" }, hint) : null);
}

function kpiTiles(screen, history, currency) {
  const current = Number(screen.mrr.mrr);
  const month = history[history.length - 1];
  const churnRate = month.opening > 0 ? -month.churn / month.opening : null;
  const subscribers = screen.trialing.totalCount + screen.active.totalCount + screen.pastDue.totalCount;
  return el("div", { class: "tiles" },
    tile("MRR", money(current, currency), "monthly recurring revenue, excl. tax", "mrr"),
    tile("ARR", money(current * 12, currency), "MRR × 12", "arr"),
    tile("Net new MRR", money(screen.mrr.movements.netNew, currency), "this month", "netNew"),
    tile("Subscribers", String(subscribers), "trialing, active and past due", "subscribers"),
    tile("ARPU", subscribers ? money(current / subscribers, currency) : "—", "MRR per subscriber", "arpu"),
    tile("Revenue churn", percent(churnRate), "this month, of the opening MRR", "revenueChurn"));
}

function mrrCard(history, currency) {
  const labels = history.map((month) => month.label);
  const canvas = chart("mrr", "line", {
    labels,
    datasets: [{ label: "MRR", data: history.map((month) => month.mrr), borderColor: COLORS.teal,
      backgroundColor: "rgba(19,190,187,0.12)", fill: true, tension: 0.25 }],
  }, { scales: { y: { beginAtZero: true, ticks: { callback: axisMoney(currency) } } } });
  const movementKinds = [["new", "New", COLORS.teal], ["expansion", "Expansion", COLORS.green],
    ["reactivation", "Reactivation", COLORS.blue], ["contraction", "Contraction", COLORS.amber], ["churn", "Churn", COLORS.red]];
  const movements = chart("movements", "bar", {
    labels,
    datasets: movementKinds.map(([kind, label, color]) => ({ label, data: history.map((month) => month[kind]), backgroundColor: color, stack: "m" })),
  }, { scales: { x: { stacked: true }, y: { stacked: true, ticks: { callback: axisMoney(currency) } } } });
  const columns = [
    { label: "Month", value: (row) => row.label },
    { label: "Opening MRR", value: (row) => row.opening.toFixed(2), render: (row) => money(row.opening, currency), numeric: true },
  ].concat(movementKinds.map(([kind, label]) => ({ label, value: (row) => row[kind].toFixed(2), render: (row) => money(row[kind], currency), numeric: true })))
    .concat([{ label: "Net new", value: (row) => row.netNew.toFixed(2), render: (row) => money(row.netNew, currency), numeric: true },
      { label: "Closing MRR", value: (row) => row.mrr.toFixed(2), render: (row) => money(row.mrr, currency), numeric: true }]);
  return [
    card("MRR over time", canvas),
    card("MRR movements", el("div", {}, movements, table("mrr-movements", columns, history.slice().reverse()))),
  ];
}

function statusCard(screen) {
  const counts = STATUSES.map((status) => screen[STATUS_ALIASES[status]].totalCount);
  const doughnut = chart("statuses", "doughnut", {
    labels: STATUSES.map(humanize),
    datasets: [{ label: "Subscribers", data: counts, backgroundColor: STATUS_COLORS }],
  }, { plugins: { legend: { position: "right" } } });
  const rows = STATUSES.map((status, index) => ({ status, count: counts[index] }));
  return card("Subscribers by status", el("div", { class: "split" }, doughnut,
    table("subscribers-by-status", [
      { label: "Status", value: (row) => humanize(row.status) },
      { label: "Subscribers", value: (row) => row.count, numeric: true },
    ], rows, { onRowClick: (row) => { window.location.hash = "#/subscriptions?status=" + row.status; } })));
}

function churnCard(history) {
  const rows = history.map((month) => ({
    label: month.label, opening: month.opening, churn: -month.churn,
    rate: month.opening > 0 ? -month.churn / month.opening : 0,
  }));
  const line = chart("churn", "bar", {
    labels: rows.map((row) => row.label),
    datasets: [{ label: "Revenue churn (% of opening MRR)", data: rows.map((row) => Number((row.rate * 100).toFixed(2))), backgroundColor: COLORS.red }],
  }, { scales: { y: { beginAtZero: true, ticks: { callback: (value) => value + " %" } } } });
  return card("Churn", el("div", {}, line, table("churn", [
    { label: "Month", value: (row) => row.label },
    { label: "Churned MRR", value: (row) => row.churn.toFixed(2), numeric: true },
    { label: "Revenue churn rate", value: (row) => (row.rate * 100).toFixed(2) + " %", numeric: true },
  ], rows.slice().reverse())));
}

function plansCard(rows, currency) {
  const bar = chart("plans", "bar", {
    labels: rows.map((row) => row.plan.name),
    datasets: [
      { label: "Current subscribers", data: rows.map((row) => row.current), backgroundColor: COLORS.teal },
      { label: "Ended", data: rows.map((row) => row.ended), backgroundColor: COLORS.grey },
    ],
  }, { indexAxis: "y" });
  return card("Plans compared", el("div", {}, bar, table("plans", [
    { label: "Plan", value: (row) => row.plan.name },
    { label: "Family", value: (row) => row.plan.family || "—" },
    { label: "Every", value: (row) => row.plan.intervalCount + " " + humanize(row.plan.intervalUnit) },
    { label: "Price", value: (row) => Number(row.plan.price.amount).toFixed(2), render: (row) => money(row.plan.price.amount, currency), numeric: true },
    { label: "Current subscribers", value: (row) => row.current, numeric: true },
    { label: "Ended", value: (row) => row.ended, numeric: true },
    { label: "Active plan", value: (row) => (row.plan.isActive ? "yes" : "archived") },
  ], rows, { onRowClick: (row) => { window.location.hash = "#/subscriptions?plan=" + encodeURIComponent(row.plan.id); } })));
}

function pendingCard(title, field) {
  return card(title, notice("This store's API has no `" + field + "` query yet: the chart appears when it does.", "info"));
}

export async function render(root, context) {
  const now = new Date();
  const currency = context.currency;
  const document_ = await firstScreen();
  const [screen, history, plans, fields] = await Promise.all([
    graphql(document_, { currency, now: now.toISOString(), monthStart: monthStart(now).toISOString() }),
    mrrHistory(currency, now),
    plansCompared(currency),
    availableQueries(),
  ]);
  const extra = await import("./overview_metrics.js");
  const more = await extra.renderMetrics(fields, currency, now);
  root.replaceChildren(
    el("div", { class: "page-header" }, el("h1", {}, "Subscriptions overview"),
      el("span", { class: "muted" }, currency + " · as of " + now.toISOString().slice(0, 16).replace("T", " ") + " UTC")),
    kpiTiles(screen, history, currency),
    el("div", { class: "grid" }, mrrCard(history, currency), statusCard(screen), churnCard(history),
      plans.length ? plansCard(plans, currency) : card("Plans compared", notice("No plans in " + currency + " yet.")),
      more.cohorts || pendingCard("Cohorts", "subscriptionCohorts"),
      more.reasons || pendingCard("Cancellation reasons", "subscriptionCancellationReasons"),
      more.forecast || pendingCard("Billing forecast", "subscriptionBillingForecast")));
}

export { SERIES };
