// One subscription: its facts, its timeline (events, orders, payments, refunds) and the staff
// actions the API has. Every action is a staff mutation; its typed errors are shown as they come.
import { graphql, mutate } from "../api.js";
import { card, clear, dateTime, el, humanize, money, notice, statusChip, table } from "../ui.js";

const DETAIL = `
query ConsoleSubscription($id: ID!) {
  customerSubscription(id: $id) {
    id email status quantity currency createdAt currentPeriodStart currentPeriodEnd nextBillingAt
    trialEndAt paidCycles cancelAtPeriodEnd cancelledAt cancelReason cancelReasonText pausedAt
    pauseResumesAt endedAt parkedAt parkedReason cardBrand cardLast4 lastRenewalError
    plan { id name intervalUnit intervalCount }
    unitPrice { amount currency }
    credit { amount currency }
    scheduledPlan { name }
    scheduledQuantity
    events { id date type actorType amount { amount currency } orderId userEmail }
    billingCycles {
      id cycleIndex periodStart periodEnd status attemptCount problem
      amount { amount currency }
      order {
        id number status paymentStatus created
        total { gross { amount currency } }
        payments {
          id gateway
          transactions { id created kind isSuccess amount { amount currency } }
        }
      }
    }
  }
}`;

const SUBSCRIPTION_FIELDS = "subscription { id status } subscriptionErrors { field message code }";
export const ACTIONS = {
  cancel: `mutation($id: ID!, $immediately: Boolean, $reason: SubscriptionCancelReason, $reasonText: String) {
    subscriptionCancel(id: $id, immediately: $immediately, reason: $reason, reasonText: $reasonText) { ${SUBSCRIPTION_FIELDS} } }`,
  cancelUndo: `mutation($id: ID!) { subscriptionCancelUndo(id: $id) { ${SUBSCRIPTION_FIELDS} } }`,
  reactivate: `mutation($id: ID!) { subscriptionReactivate(id: $id) { ${SUBSCRIPTION_FIELDS} } }`,
  pause: `mutation($id: ID!, $cycles: Int) { subscriptionPause(id: $id, cycles: $cycles) { ${SUBSCRIPTION_FIELDS} } }`,
  resume: `mutation($id: ID!) { subscriptionResume(id: $id) { ${SUBSCRIPTION_FIELDS} } }`,
  skip: `mutation($id: ID!) { subscriptionSkipNextRenewal(id: $id) { ${SUBSCRIPTION_FIELDS} } }`,
  renewNow: `mutation($id: ID!) { subscriptionRenewNow(id: $id) { renewalStatus renewalDetail ${SUBSCRIPTION_FIELDS} } }`,
  retry: `mutation($id: ID!) { subscriptionRetryPayment(id: $id) { ${SUBSCRIPTION_FIELDS} } }`,
  extend: `mutation($id: ID!, $days: Int!) { subscriptionExtendPeriod(id: $id, days: $days) { ${SUBSCRIPTION_FIELDS} } }`,
  refund: `mutation($id: ID!, $orderId: ID!, $amount: Decimal) {
    subscriptionRefund(id: $id, orderId: $orderId, amount: $amount) { refunded { amount currency } ${SUBSCRIPTION_FIELDS} } }`,
  release: `mutation($id: ID!) { subscriptionRelease(id: $id) { ${SUBSCRIPTION_FIELDS} } }`,
};
const CANCEL_REASONS = ["TOO_EXPENSIVE", "NOT_USING", "SWITCHING", "MISSING_FEATURES", "QUALITY", "SHIPPING", "OTHER"];
const ENDED = ["CANCELLED", "EXPIRED"];

export function timeline(subscription) {
  const rows = subscription.events.map((event) => ({
    date: event.date,
    kind: event.type === "REFUNDED" ? "Refund" : "Event",
    what: humanize(event.type),
    who: humanize(event.actorType) + (event.userEmail ? " (" + event.userEmail + ")" : ""),
    amount: event.amount,
    order: event.orderId || "",
  }));
  subscription.billingCycles.forEach((cycle) => {
    const order = cycle.order;
    if (!order) return;
    rows.push({
      date: order.created, kind: "Order",
      what: "Order #" + order.number + " for cycle " + cycle.cycleIndex + ": " + humanize(order.status) + ", " + humanize(order.paymentStatus),
      who: "", amount: order.total.gross, order: order.id,
    });
    order.payments.forEach((payment) => payment.transactions.forEach((transaction) => {
      const refund = transaction.kind === "REFUND";
      rows.push({
        date: transaction.created, kind: refund ? "Refund" : "Payment",
        what: humanize(transaction.kind) + (transaction.isSuccess ? "" : " (failed)") + " via " + payment.gateway,
        who: "", amount: transaction.amount, order: order.id,
      });
    }));
  });
  return rows.sort((a, b) => (a.date < b.date ? 1 : a.date > b.date ? -1 : 0));
}

const TIMELINE_COLUMNS = [
  { label: "When", value: (row) => row.date, render: (row) => dateTime(row.date) },
  { label: "Kind", value: (row) => row.kind, render: (row) => el("span", { class: "tag tag-" + row.kind.toLowerCase() }, row.kind) },
  { label: "What", value: (row) => row.what },
  { label: "By", value: (row) => row.who },
  { label: "Amount", value: (row) => (row.amount ? Number(row.amount.amount).toFixed(2) : ""),
    render: (row) => (row.amount ? money(row.amount.amount, row.amount.currency) : ""), numeric: true },
  { label: "Currency", value: (row) => (row.amount ? row.amount.currency : ""), csvOnly: true },
  { label: "Order", value: (row) => row.order, csvOnly: true },
];

function facts(subscription) {
  const amount = Number(subscription.unitPrice.amount) * subscription.quantity;
  const rows = [
    ["Customer", subscription.email],
    ["Plan", subscription.plan.name + " (every " + subscription.plan.intervalCount + " " + humanize(subscription.plan.intervalUnit).toLowerCase() + ")"],
    ["Amount", money(amount, subscription.currency) + (subscription.quantity > 1 ? " (" + subscription.quantity + " × " + money(subscription.unitPrice.amount, subscription.currency) + ")" : "")],
    ["Current period", dateTime(subscription.currentPeriodStart) + " → " + dateTime(subscription.currentPeriodEnd)],
    ["Next billing", dateTime(subscription.nextBillingAt)],
    ["Paid cycles", subscription.paidCycles],
    ["Card", subscription.cardLast4 ? humanize(subscription.cardBrand) + " •••• " + subscription.cardLast4 : "—"],
    ["Credit", money(subscription.credit.amount, subscription.credit.currency)],
    ["Created", dateTime(subscription.createdAt)],
  ];
  if (subscription.trialEndAt) rows.push(["Trial ends", dateTime(subscription.trialEndAt)]);
  if (subscription.cancelAtPeriodEnd) rows.push(["Cancels", "at the end of the period"]);
  if (subscription.cancelledAt) rows.push(["Cancelled", dateTime(subscription.cancelledAt) + " · " + humanize(subscription.cancelReason) + (subscription.cancelReasonText ? " — " + subscription.cancelReasonText : "")]);
  if (subscription.pausedAt) rows.push(["Paused", dateTime(subscription.pausedAt) + (subscription.pauseResumesAt ? ", resumes " + dateTime(subscription.pauseResumesAt) : "")]);
  if (subscription.scheduledPlan) rows.push(["Scheduled change", subscription.scheduledPlan.name + " × " + subscription.scheduledQuantity]);
  if (subscription.parkedAt) rows.push(["Parked", dateTime(subscription.parkedAt) + " · " + (subscription.parkedReason || "")]);
  if (subscription.lastRenewalError) rows.push(["Last renewal error", subscription.lastRenewalError]);
  return el("dl", { class: "facts" }, rows.map(([label, value]) => [el("dt", {}, label), el("dd", {}, value)]));
}

function actions(subscription, run) {
  const status = subscription.status;
  const paidOrders = subscription.billingCycles.filter((cycle) => cycle.order && cycle.order.paymentStatus !== "NOT_CHARGED");
  const forms = [];
  const button = (name, label, variables, confirmText) => el("button", {
    class: "button" + (confirmText ? " button-danger" : ""), type: "button", dataset: { action: name },
    onclick: () => run(name, variables(), confirmText),
  }, label);
  if (!ENDED.includes(status)) {
    const immediately = el("input", { type: "checkbox", name: "immediately" });
    const reason = el("select", { name: "reason" }, el("option", { value: "" }, "Reason…"), CANCEL_REASONS.map((value) => el("option", { value }, humanize(value))));
    const text = el("input", { type: "text", name: "reasonText", placeholder: "Note (optional)" });
    forms.push(el("div", { class: "action" }, el("label", {}, immediately, " immediately"), reason, text,
      button("cancel", "Cancel subscription", () => ({ immediately: immediately.checked, reason: reason.value || null, reasonText: text.value || null }),
        "Cancel this subscription?")));
  }
  if (subscription.cancelAtPeriodEnd) forms.push(el("div", { class: "action" }, button("cancelUndo", "Undo cancellation", () => ({}))));
  if (ENDED.includes(status)) forms.push(el("div", { class: "action" }, button("reactivate", "Reactivate", () => ({}))));
  if (["ACTIVE", "TRIALING"].includes(status)) {
    const cycles = el("input", { type: "number", name: "cycles", min: 1, placeholder: "cycles (empty: until resumed)" });
    forms.push(el("div", { class: "action" }, cycles, button("pause", "Pause", () => ({ cycles: cycles.value ? Number(cycles.value) : null }))));
    forms.push(el("div", { class: "action" }, button("skip", "Skip next renewal", () => ({}))));
  }
  if (status === "PAUSED") forms.push(el("div", { class: "action" }, button("resume", "Resume", () => ({}))));
  if (["ACTIVE", "TRIALING", "PAST_DUE"].includes(status)) forms.push(el("div", { class: "action" }, button("renewNow", "Renew now", () => ({}))));
  if (status === "PAST_DUE") forms.push(el("div", { class: "action" }, button("retry", "Retry payment", () => ({}))));
  if (!ENDED.includes(status)) {
    const days = el("input", { type: "number", name: "days", min: 1, value: 7 });
    forms.push(el("div", { class: "action" }, days, " days ", button("extend", "Extend period", () => ({ days: Number(days.value) }))));
  }
  if (paidOrders.length) {
    const order = el("select", { name: "orderId" }, paidOrders.map((cycle) => el("option", { value: cycle.order.id },
      "Order #" + cycle.order.number + " (" + money(cycle.order.total.gross.amount, cycle.order.total.gross.currency) + ")")));
    const amount = el("input", { type: "text", name: "amount", inputmode: "decimal", placeholder: "amount (empty: all)" });
    forms.push(el("div", { class: "action" }, order, amount,
      button("refund", "Refund", () => ({ orderId: order.value, amount: amount.value || null }), "Refund this order?")));
  }
  if (subscription.parkedAt) forms.push(el("div", { class: "action" }, button("release", "Release", () => ({}))));
  return el("div", { class: "actions" }, forms);
}

export async function render(root, context, params, id) {
  const data = await graphql(DETAIL, { id });
  const subscription = data.customerSubscription;
  if (!subscription) {
    root.replaceChildren(notice("No such subscription.", "error"));
    return;
  }
  const message = el("div", { class: "messages" });
  const run = async (name, variables, confirmText) => {
    if (confirmText && !window.confirm(confirmText)) return;
    clear(message);
    try {
      const payload = await mutate(ACTIONS[name], Object.assign({ id }, variables));
      const extra = payload.renewalStatus ? ": " + payload.renewalStatus + (payload.renewalDetail ? " — " + payload.renewalDetail : "") : "";
      context.flash(humanize(name.replace(/([A-Z])/g, "_$1")) + " done" + extra + ".");
      await render(root, context, params, id);
    } catch (error) {
      clear(message, notice(error.message, "error"));
    }
  };
  root.replaceChildren(
    el("div", { class: "page-header" },
      el("a", { href: "#/subscriptions", class: "back" }, "← Subscriptions"),
      el("h1", {}, subscription.email + " · " + subscription.plan.name), statusChip(subscription.status)),
    message,
    el("div", { class: "grid grid-detail" },
      card("Subscription", facts(subscription)),
      card("Staff actions", actions(subscription, run)),
      el("div", { class: "span-all" }, card("Timeline", table("timeline", TIMELINE_COLUMNS, timeline(subscription))))));
}
