// The overview: KPI tiles, MRR over time with its movements, subscribers by status, churn, the
// cohort heat map, plans compared, cancellation reasons and the billing forecast — all from
// subscriptionMetrics; the first document is first_screen.graphql, as the benchmark sends it.
import { graphql } from "../api.js";
import { chart, COLORS, drawCharts, money as axisMoney } from "../charts.js";
import { card, el, humanize, money, notice, percent, table } from "../ui.js";

export const STATUSES = ["TRIALING", "ACTIVE", "PAST_DUE", "PAUSED", "CANCELLED", "EXPIRED"];
const LIVE = [["active", "Active", COLORS.teal], ["trialing", "Trialing", COLORS.blue],
  ["pastDue", "Past due", COLORS.amber], ["paused", "Paused", COLORS.purple]];
const MOVEMENTS = [["new", "New", COLORS.teal], ["expansion", "Expansion", COLORS.green],
  ["reactivation", "Reactivation", COLORS.blue], ["contraction", "Contraction", COLORS.amber],
  ["churn", "Churn", COLORS.red]];
const RANGES = [3, 6, 12, 24];
const INTERVALS = ["MONTH", "WEEK", "DAY"];
const MAX_MONTHS = { MONTH: 24, WEEK: 12, DAY: 3 };

let firstScreenDocument = null;
export async function firstScreen() {
  if (!firstScreenDocument) {
    const response = await fetch(new URL("first_screen.graphql", document.baseURI));
    if (!response.ok) throw new Error("The console's first_screen.graphql did not load.");
    firstScreenDocument = await response.text();
  }
  return firstScreenDocument;
}

export function rangeOf(months, today) {
  const start = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() - (months - 1), 1));
  return { start: start.toISOString().slice(0, 10), end: today.toISOString().slice(0, 10) };
}

// Below the first screen: sent with it, drawn when it answers.
const BELOW = `
query ConsoleOverviewBelow($currency: String!, $start: Date!, $end: Date!, $planFamilies: [String!]) {
  subscriptionMetrics(currency: $currency, start: $start, end: $end, planFamilies: $planFamilies) {
    cancellationReasons { reason count }
    cohorts { month cells { monthsSince subscribers revenue } }
    billingForecast { month amount renewals }
    subscriptionErrors { field message code }
  }
}`;

const num = (value) => (value === null || value === undefined ? null : Number(value));
const fixed = (value) => (value === null || value === undefined ? "" : Number(value).toFixed(2));
const ratio = (value) => (value === null || value === undefined ? "" : Number(value).toFixed(4));

function label(point, interval) {
  return interval === "MONTH" ? point.start.slice(0, 7) : point.start;
}

function tile(name, title, value, hint) {
  return el("div", { class: "tile", dataset: { kpi: name } },
    el("div", { class: "tile-label" }, title),
    el("div", { class: "tile-value" }, value),
    hint ? el("div", { class: "tile-hint" }, hint) : null);
}

function kpiTiles(summary, currency) {
  return el("div", { class: "tiles" },
    tile("mrr", "MRR", money(summary.mrr, currency), "at the end of the range, excl. tax"),
    tile("arr", "ARR", money(summary.arr, currency), "MRR × 12"),
    tile("netNew", "Net new MRR", money(summary.movements.netNew, currency), "over the range"),
    tile("paying", "Paying subscribers", String(summary.payingSubscribers), "MRR above 0"),
    tile("arpu", "ARPU", money(summary.arpu, currency), "MRR per paying subscriber"),
    tile("ltv", "LTV", money(summary.ltv, currency), "ARPU / monthly customer churn"),
    tile("customerChurn", "Customer churn", percent(summary.customerChurnRate), summary.churnedSubscribers + " churned"),
    tile("revenueChurn", "Revenue churn", percent(summary.revenueChurnRate), "churn + contraction"),
    tile("nrr", "Net revenue retention", percent(summary.netRevenueRetention), "of the MRR at the start"),
    tile("trialConversion", "Trial conversion", percent(summary.trialConversionRate), "trials that paid"),
    tile("dunningRecovery", "Dunning recovery", percent(summary.dunningRecoveryRate), "past due that paid"),
    tile("offerSaves", "Retention offer saves", percent(summary.retentionOfferSaveRate), "offers accepted"));
}

function mrrCards(series, interval, currency) {
  const labels = series.map((point) => label(point, interval));
  const line = chart("mrr", "line", {
    labels,
    datasets: [{ label: "MRR", data: series.map((point) => num(point.mrr)), borderColor: COLORS.teal,
      backgroundColor: "rgba(19,190,187,0.12)", fill: true, tension: 0.25, pointRadius: series.length > 60 ? 0 : 3 }],
  }, { scales: { y: { beginAtZero: true, ticks: { callback: axisMoney(currency) } } } });
  const bars = chart("movements", "bar", {
    labels,
    datasets: MOVEMENTS.map(([kind, name, color]) => ({ label: name, data: series.map((point) => num(point.movements[kind])), backgroundColor: color, stack: "m" })),
  }, { scales: { x: { stacked: true }, y: { stacked: true, ticks: { callback: axisMoney(currency) } } } });
  const columns = [{ label: "Period", value: (point) => label(point, interval) }]
    .concat(MOVEMENTS.map(([kind, name]) => ({ label: name, value: (point) => fixed(point.movements[kind]),
      render: (point) => money(point.movements[kind], currency), numeric: true })))
    .concat([
      { label: "Net new", value: (point) => fixed(point.movements.netNew), render: (point) => money(point.movements.netNew, currency), numeric: true },
      { label: "MRR", value: (point) => fixed(point.mrr), render: (point) => money(point.mrr, currency), numeric: true },
    ]);
  return [card("MRR over time", line),
    card("MRR movements", el("div", {}, bars, table("mrr-movements", columns, series.slice().reverse())))];
}

function statusCard(series, interval) {
  const bars = chart("statuses", "bar", {
    labels: series.map((point) => label(point, interval)),
    datasets: LIVE.map(([key, name, color]) => ({ label: name, data: series.map((point) => point.subscribers[key]), backgroundColor: color, stack: "s" })),
  }, { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } });
  const last = series[series.length - 1];
  const rows = last ? LIVE.map(([key, name]) => ({ key, name, count: last.subscribers[key] })) : [];
  const statusOf = { active: "ACTIVE", trialing: "TRIALING", pastDue: "PAST_DUE", paused: "PAUSED" };
  return card("Subscribers by status", el("div", {}, bars, table("subscribers-by-status", [
    { label: "Status", value: (row) => row.name },
    { label: "Subscribers", value: (row) => row.count, numeric: true },
  ], rows, { onRowClick: (row) => { window.location.hash = "#/subscriptions?status=" + statusOf[row.key]; } })));
}

function churnCard(series, interval) {
  const asPercent = (value) => (value === null || value === undefined ? null : Number((Number(value) * 100).toFixed(2)));
  const line = chart("churn", "line", {
    labels: series.map((point) => label(point, interval)),
    datasets: [
      { label: "Customer churn %", data: series.map((point) => asPercent(point.customerChurnRate)), borderColor: COLORS.purple, backgroundColor: COLORS.purple, spanGaps: true },
      { label: "Revenue churn %", data: series.map((point) => asPercent(point.revenueChurnRate)), borderColor: COLORS.red, backgroundColor: COLORS.red, spanGaps: true },
    ],
  }, { scales: { y: { beginAtZero: true, ticks: { callback: (value) => value + " %" } } } });
  return card("Churn", el("div", {}, line, table("churn", [
    { label: "Period", value: (point) => label(point, interval) },
    { label: "Churned subscribers", value: (point) => point.churnedSubscribers, numeric: true },
    { label: "Paying subscribers", value: (point) => point.payingSubscribers, numeric: true },
    { label: "Customer churn rate", value: (point) => ratio(point.customerChurnRate), render: (point) => percent(point.customerChurnRate), numeric: true },
    { label: "Revenue churn rate", value: (point) => ratio(point.revenueChurnRate), render: (point) => percent(point.revenueChurnRate), numeric: true },
  ], series.slice().reverse())));
}

// Rows: sign-up months; columns: months since. A cell's colour is the share of the cohort's
// first-month subscribers still paying.
function cohortCard(cohorts, currency) {
  const width = Math.max(0, ...cohorts.map((cohort) => cohort.cells.length));
  const head = el("tr", {}, el("th", {}, "Signed up"), Array.from({ length: width }, (_, index) => el("th", { class: "numeric" }, "+" + index)));
  const rows = cohorts.map((cohort) => {
    const first = cohort.cells.length ? cohort.cells[0].subscribers : 0;
    return el("tr", { dataset: { cohort: cohort.month.slice(0, 7) } }, el("th", {}, cohort.month.slice(0, 7)),
      Array.from({ length: width }, (_, index) => {
        const cell = cohort.cells[index];
        if (!cell) return el("td", {});
        const share = first ? cell.subscribers / first : 0;
        return el("td", {
          class: "cell", title: money(cell.revenue, currency) + " MRR",
          style: "background: rgba(19,190,187," + (0.08 + 0.8 * share).toFixed(2) + ")" + (share > 0.6 ? "; color: #fff" : ""),
          dataset: { subscribers: cell.subscribers, revenue: cell.revenue },
        }, String(cell.subscribers));
      }));
  });
  const flat = cohorts.flatMap((cohort) => cohort.cells.map((cell) => Object.assign({ month: cohort.month }, cell)));
  const exporter = table("cohorts", [
    { label: "Signed up", value: (row) => row.month.slice(0, 7) },
    { label: "Months since", value: (row) => row.monthsSince },
    { label: "Subscribers", value: (row) => row.subscribers },
    { label: "MRR", value: (row) => fixed(row.revenue) },
  ], flat);
  // The heat map is what staff read; the CSV has one row per cell.
  exporter.querySelector("table").remove();
  return card("Cohorts (subscribers still paying, by month of sign-up)",
    cohorts.length ? el("div", { class: "table-wrap" }, exporter, el("table", { class: "data-table heat", dataset: { heatmap: "cohorts" } }, el("thead", {}, head), el("tbody", {}, rows)))
      : notice("Nobody signed up in this range."));
}

function reasonsCard(reasons) {
  const colors = [COLORS.red, COLORS.amber, COLORS.purple, COLORS.blue, COLORS.green, COLORS.teal, COLORS.grey, "#B07CC6", "#7D8B8F"];
  const doughnut = chart("reasons", "doughnut", {
    labels: reasons.map((row) => humanize(row.reason)),
    datasets: [{ label: "Cancellations", data: reasons.map((row) => row.count), backgroundColor: colors }],
  }, { plugins: { legend: { position: "right" } } });
  return card("Cancellation reasons", reasons.length ? el("div", { class: "split" }, doughnut, table("cancellation-reasons", [
    { label: "Reason", value: (row) => humanize(row.reason), csv: (row) => row.reason },
    { label: "Cancellations", value: (row) => row.count, numeric: true },
  ], reasons)) : notice("No cancellations in this range."));
}

function forecastCard(forecast, currency) {
  const bars = chart("forecast", "bar", {
    labels: forecast.map((month) => month.month.slice(0, 7)),
    datasets: [{ label: "Scheduled billing", data: forecast.map((month) => num(month.amount)), backgroundColor: COLORS.purple }],
  }, { scales: { y: { beginAtZero: true, ticks: { callback: axisMoney(currency) } } } });
  return card("Billing forecast (next 12 months)", el("div", {}, bars, table("billing-forecast", [
    { label: "Month", value: (row) => row.month.slice(0, 7) },
    { label: "Renewals", value: (row) => row.renewals, numeric: true },
    { label: "Amount", value: (row) => fixed(row.amount), render: (row) => money(row.amount, currency), numeric: true },
  ], forecast)));
}

async function plansCompared(variables, currency) {
  const listed = await graphql(`query ConsolePlans { subscriptionPlans(first: 100, includeArchived: true) {
    edges { node { id name family intervalUnit intervalCount isActive price { amount currency } } } } }`);
  const plans = listed.subscriptionPlans.edges.map((edge) => edge.node)
    .filter((plan) => plan.price.currency === currency && (!variables.planFamilies || variables.planFamilies.includes(plan.family)));
  if (!plans.length) return { plans: [], families: [] };
  const fields = plans.map((plan, index) => `p${index}: subscriptionMetrics(currency: $currency, start: $start, end: $end, planIds: ["${plan.id}"]) {
      summary { mrr payingSubscribers churnedSubscribers customerChurnRate revenueChurnRate arpu } }`).join("\n");
  const data = await graphql(`query ConsolePlansCompared($currency: String!, $start: Date!, $end: Date!) {\n${fields}\n}`,
    { currency, start: variables.start, end: variables.end });
  const families = [...new Set(listed.subscriptionPlans.edges.map((edge) => edge.node.family).filter(Boolean))];
  return { plans: plans.map((plan, index) => Object.assign({ plan }, data["p" + index].summary)), families };
}

function plansCard(rows, currency) {
  const bars = chart("plans", "bar", {
    labels: rows.map((row) => row.plan.name),
    datasets: [{ label: "MRR", data: rows.map((row) => num(row.mrr)), backgroundColor: COLORS.teal, xAxisID: "x" }],
  }, { indexAxis: "y", scales: { x: { ticks: { callback: axisMoney(currency) } } } });
  return card("Plans compared", el("div", {}, bars, table("plans", [
    { label: "Plan", value: (row) => row.plan.name },
    { label: "Family", value: (row) => row.plan.family || "—" },
    { label: "Price", value: (row) => fixed(row.plan.price.amount), render: (row) => money(row.plan.price.amount, currency) + " / " + (row.plan.intervalCount > 1 ? row.plan.intervalCount + " " : "") + humanize(row.plan.intervalUnit).toLowerCase(), numeric: true },
    { label: "MRR", value: (row) => fixed(row.mrr), render: (row) => money(row.mrr, currency), numeric: true },
    { label: "Paying", value: (row) => row.payingSubscribers, numeric: true },
    { label: "Churned", value: (row) => row.churnedSubscribers, numeric: true },
    { label: "Customer churn", value: (row) => ratio(row.customerChurnRate), render: (row) => percent(row.customerChurnRate), numeric: true },
    { label: "ARPU", value: (row) => fixed(row.arpu), render: (row) => money(row.arpu, currency), numeric: true },
    { label: "Plan ID", value: (row) => row.plan.id, csvOnly: true },
  ], rows, { onRowClick: (row) => { window.location.hash = "#/subscriptions?plan=" + encodeURIComponent(row.plan.id); } })));
}

function controls(params, families, months, interval) {
  const go = (key, value) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value); else next.delete(key);
    window.location.hash = "#/?" + next;
  };
  return el("div", { class: "filters" },
    el("select", { name: "months", onchange: (event) => go("months", event.target.value) },
      RANGES.filter((count) => count <= MAX_MONTHS[interval]).map((count) =>
        el("option", { value: count, selected: count === months }, "Last " + count + " months"))),
    el("select", { name: "interval", onchange: (event) => go("interval", event.target.value) },
      INTERVALS.map((value) => el("option", { value, selected: value === interval }, "By " + humanize(value).toLowerCase()))),
    el("select", { name: "family", onchange: (event) => go("family", event.target.value) },
      el("option", { value: "" }, "All plan families"),
      families.map((family) => el("option", { value: family, selected: params.get("family") === family }, family))));
}

export async function render(root, context, params) {
  const currency = context.currency;
  const interval = INTERVALS.includes(params.get("interval")) ? params.get("interval") : "MONTH";
  // The API answers at most 100 points a request: days for a quarter, weeks for a year.
  const months = Math.min(MAX_MONTHS[interval], Math.max(1, Number(params.get("months")) || 12));
  const variables = Object.assign({ currency, interval, planFamilies: params.get("family") ? [params.get("family")] : null },
    rangeOf(months, new Date()));
  const below = graphql(BELOW, variables).then((data) => data.subscriptionMetrics);
  const compared = plansCompared(variables, currency);
  const answer = (await graphql(await firstScreen(), variables)).subscriptionMetrics;
  if (answer.subscriptionErrors.length) {
    root.replaceChildren(notice(answer.subscriptionErrors.map((error) => error.message).join("; "), "error"));
    return;
  }
  const families = el("span");
  const slots = {
    plans: el("div", { class: "slot" }, card("Plans compared", el("p", { class: "muted" }, "Loading…"))),
    reasons: el("div", { class: "slot" }, card("Cancellation reasons", el("p", { class: "muted" }, "Loading…"))),
    forecast: el("div", { class: "slot" }, card("Billing forecast (next 12 months)", el("p", { class: "muted" }, "Loading…"))),
    cohorts: el("div", { class: "span-all slot" }, card("Cohorts", el("p", { class: "muted" }, "Loading…"))),
  };
  const page = el("div", { class: "overview", dataset: { overview: "first-screen" } },
    el("div", { class: "page-header" }, el("h1", {}, "Subscriptions overview"),
      el("span", { class: "muted" }, currency + " · " + answer.start + " to " + answer.end), families),
    kpiTiles(answer.summary, currency),
    el("div", { class: "grid" },
      mrrCards(answer.series, interval, currency),
      statusCard(answer.series, interval),
      churnCard(answer.series, interval),
      slots.plans, slots.reasons, slots.forecast, slots.cohorts));
  root.replaceChildren(page);
  fillBelow(page, slots, families, (names) => controls(params, names, months, interval), currency, below, compared);
}

// The cards below the first screen replace their placeholders as their answers come; a page
// left in the meantime is not touched.
async function fillBelow(page, slots, families, filters, currency, below, compared) {
  const fill = (slot, content) => {
    if (!slot.isConnected) return;
    slot.replaceChildren(content);
    drawCharts();
  };
  try {
    const plans = await compared;
    if (families.isConnected) families.replaceWith(filters(plans.families));
    fill(slots.plans, plans.plans.length ? plansCard(plans.plans, currency) : card("Plans compared", notice("No plans in " + currency + ".")));
    const rest = await below;
    if (rest.subscriptionErrors.length) throw new Error(rest.subscriptionErrors.map((error) => error.message).join("; "));
    fill(slots.reasons, reasonsCard(rest.cancellationReasons));
    fill(slots.forecast, forecastCard(rest.billingForecast, currency));
    fill(slots.cohorts, cohortCard(rest.cohorts, currency));
  } catch (error) {
    if (page.isConnected) page.prepend(notice(error.message, "error"));
  } finally {
    page.dataset.overview = "complete";
  }
}
