// Billing: the organisation's plan and subscription (status, period, price), its usage against
// each limit of the plan, the plans it may move to, and the periods it has paid for.
// Everyone with billing.view reads it; billing.manage (the owner) changes the plan, cancels at
// the end of the period and resumes. A paid plan is bought on the payment provider's checkout
// page: the console sends the browser there and the provider sends it back to #/billing.
// The subscription changes when the provider's notification arrives, not when the browser
// comes back, so a return only says the payment is being confirmed.

const STATUS = {
  active: { label: "Active", kind: "active" },
  trialing: { label: "Trial", kind: "active" },
  past_due: { label: "Payment overdue", kind: "revoked" },
  canceled: { label: "Canceled", kind: "muted" },
};
// The usage figures GET /api/v3/subscription reports, each against the plan's limit.
const USAGE = [
  { key: "assets", label: "Content" },
  { key: "devices", label: "Screens" },
  { key: "storage_bytes", label: "Storage", bytes: true },
];
const GB = 1024 ** 3;
// Midtrans's transaction statuses that end a payment without money taken.
const FAILED_RETURNS = new Set(["deny", "cancel", "expire", "failure"]);
const RETURN_MARK = "checkout";
const CHECKOUT_KEY = "anthias-billing-checkout";
// After a payment, how often and how many times to ask whether it was confirmed.
const CONFIRM_POLL_MS = 1500;
const CONFIRM_POLLS = 20;

export async function render(root, ctx) {
  const { h } = ctx.ui;
  const manage = ctx.can("billing.manage");
  const returned = checkoutReturn();
  let data = await load(ctx);

  function draw() {
    root.replaceChildren(
      ctx.ui.pageHeader("Billing", []),
      returned ? returnNotice(returned) : "",
      subscriptionCard(),
      usageCard(),
      plansCard(),
      invoicesCard());
  }

  function returnNotice(back) {
    let text = "Thank you. Your plan changes as soon as the payment provider confirms the " +
      "payment; this page shows it then.";
    if (back.failed) text = "The payment was not completed. Your plan has not changed.";
    else if (back.confirmed) text = "The payment is confirmed: your subscription is updated.";
    return h("p", { class: back.failed ? "form-error" : "notice", role: "status",
      "data-checkout-return": back.failed ? "failed" : back.confirmed ? "confirmed" : "waiting" },
      text);
  }

  function subscriptionCard() {
    const sub = data.subscription;
    // Without a subscription the organisation keeps the plan and limits it was given.
    const code = sub ? planCode(sub.plan) : data.plan;
    const plan = planOf(code);
    const status = STATUS[sub?.status] || null;
    const facts = [
      h("dt", {}, "Plan"), h("dd", { "data-fact": "plan" }, plan ? plan.name : titled(code)),
      h("dt", {}, "Status"),
      h("dd", { "data-fact": "status" }, status
        ? h("span", { class: `badge ${status.kind}` }, status.label) : "No subscription"),
    ];
    if (sub?.amount !== undefined && sub?.amount !== null && sub.amount > 0) {
      facts.push(h("dt", {}, "Price"), h("dd", { "data-fact": "price" },
        price(sub.amount, sub.currency, plan?.interval)));
    }
    if (sub?.status === "trialing" && sub.trial_end) {
      facts.push(h("dt", {}, "Trial ends"),
        h("dd", { "data-fact": "trial_end" }, ctx.ui.formatDate(sub.trial_end)));
    }
    if (sub?.current_period_start && sub?.current_period_end) {
      facts.push(h("dt", {}, "Current period"), h("dd", { "data-fact": "period" },
        `${ctx.ui.formatDate(sub.current_period_start)} – ` +
        ctx.ui.formatDate(sub.current_period_end)));
    }
    const ending = sub && sub.cancel_at_period_end && sub.status !== "canceled";
    if (ending) {
      facts.push(h("dt", {}, "Renewal"), h("dd", { "data-fact": "renewal" },
        `Canceled: the plan ends on ${ctx.ui.formatDate(sub.current_period_end)} and ` +
        "is not charged again."));
    } else if (sub?.status === "active" && sub.current_period_end && sub.amount > 0) {
      facts.push(h("dt", {}, "Renewal"), h("dd", { "data-fact": "renewal" },
        `Renews on ${ctx.ui.formatDate(sub.current_period_end)}`));
    } else if (sub?.status === "trialing" && !ending) {
      facts.push(h("dt", {}, "Renewal"), h("dd", { "data-fact": "renewal" },
        `Nothing is charged. To keep ${plan ? plan.name : "the plan"} after the trial, ` +
        "choose it below and pay."));
    }
    const actions = [];
    if (manage && ending) {
      actions.push(h("button", { type: "button", class: "btn btn-primary",
        "data-action": "resume", onclick: (event) => act(event.currentTarget, { action: "resume" },
          "The subscription goes on: it renews at the end of the period.") }, "Resume"));
    } else if (manage && sub && ["active", "trialing", "past_due"].includes(sub.status)
               && (sub.amount > 0 || sub.status === "trialing")) {
      actions.push(h("button", { type: "button", class: "btn btn-danger-quiet",
        "data-action": "cancel", onclick: (event) => cancel(event.currentTarget) },
        "Cancel subscription"));
    }
    const notes = [];
    if (!sub) {
      notes.push(h("p", { class: "hint" }, "Until the organisation subscribes, the limits it " +
        "was given apply (see Usage), not those of the plans below."));
    }
    if (sub?.status === "past_due") {
      notes.push(h("p", { class: "form-error", role: "note" }, "The last renewal could not be " +
        "charged. Screens keep playing; new content and screens are refused beyond the plan's " +
        "limits. Choose the plan again below to pay."));
    }
    if (!manage) {
      notes.push(h("p", { class: "hint" }, "Only the organisation's owner can change the plan."));
    }
    return h("section", { class: "card", "aria-labelledby": "billing-subscription",
      "data-subscription": sub?.status || "none" },
      h("h2", { id: "billing-subscription" }, "Subscription"),
      h("dl", { class: "facts" }, ...facts),
      ...notes,
      actions.length ? h("div", { class: "actions" }, ...actions) : "");
  }

  function usageCard() {
    const rows = usageFigures(data.usage).map((item) => {
      const id = `billing-usage-${item.key}`;
      const shown = (value) => (item.bytes ? sizeText(value) : value.toLocaleString());
      if (item.limit === null || item.limit === undefined) {
        return h("div", { class: "usage", "data-usage": item.key },
          h("p", { class: "usage-label", id }, h("strong", {}, item.label),
            item.used === undefined ? " no limit" : ` ${shown(item.used)} (no limit)`));
      }
      const used = item.used ?? 0;
      const share = item.limit > 0 ? Math.min(100, Math.round((used / item.limit) * 100)) : 100;
      const level = share >= 100 ? "full" : share >= 80 ? "high" : "ok";
      const fill = h("span", { class: "bar-fill" });
      fill.style.width = `${share}%`; // CSSOM: the CSP refuses style attributes in markup
      return h("div", { class: `usage ${level}`, "data-usage": item.key },
        h("p", { class: "usage-label", id }, h("strong", {}, item.label),
          ` ${shown(used)} of ${shown(item.limit)} (${share}%)`),
        h("div", { class: "bar", role: "progressbar", "aria-labelledby": id,
          "aria-valuemin": "0", "aria-valuemax": String(item.limit),
          "aria-valuenow": String(Math.min(used, item.limit)) }, fill),
        level === "full" ? h("p", { class: "hint" },
          "The limit is reached: nothing more can be added until you use less or change plan.")
          : "");
    });
    return h("section", { class: "card", "aria-labelledby": "billing-usage" },
      h("h2", { id: "billing-usage" }, "Usage"),
      rows.length ? rows : h("p", { class: "muted" }, "No usage figures yet."));
  }

  function plansCard() {
    const current = data.subscription;
    // A plan in good standing is the current one; an overdue one may be paid again.
    const standing = current && ["active", "trialing"].includes(current.status);
    const currentCode = current ? planCode(current.plan) : null;
    const items = data.plans.filter((plan) => plan.is_public !== false
                                      || plan.code === currentCode).map((plan) => {
      const mine = Boolean(standing) && plan.code === currentCode;
      const limit = plan.limits || plan;
      const limits = [
        limitText(limit.max_assets, "content item"),
        limitText(limit.max_devices, "screen"),
        limit.storage_quota_gb === null || limit.storage_quota_gb === undefined
          ? "Unlimited storage" : `${limit.storage_quota_gb.toLocaleString()} GB storage`,
      ];
      let button = "";
      const trial = mine && current?.status === "trialing";
      if (mine) button = h("p", { class: "badge active" }, trial ? "On trial" : "Current plan");
      if (manage && (!mine || (trial && plan.price_amount > 0))) {
        button = [button, h("button", { type: "button", class: "btn btn-primary",
          "data-action": "choose", onclick: (event) => choose(event.currentTarget, plan) },
          `Choose ${plan.name}`)];
      }
      const canTrial = manage && !current && plan.trial_days > 0 && plan.price_amount > 0;
      return h("li", { class: `card plan${mine ? " is-current" : ""}`, "data-plan": plan.code },
        h("h3", { class: "plan-name" }, plan.name),
        h("p", { class: "plan-price" }, plan.price_amount > 0
          ? price(plan.price_amount, plan.currency, plan.interval) : "Free"),
        h("ul", { class: "plan-limits" }, ...limits.map((text) => h("li", {}, text))),
        h("div", { class: "actions" }, button,
          canTrial ? h("button", { type: "button", class: "btn", "data-action": "trial",
            onclick: (event) => act(event.currentTarget, { action: "trial", plan: plan.code },
              `Your ${plan.trial_days}-day trial of ${plan.name} has started.`) },
          `Try free for ${plan.trial_days} days`) : ""));
    });
    return h("section", { class: "card", "aria-labelledby": "billing-plans" },
      h("h2", { id: "billing-plans" }, "Plans"),
      manage ? h("p", { class: "hint" }, "A paid plan is paid on the payment provider's page; " +
        "you come back here afterwards. Moving to a smaller plan never deletes anything: " +
        "only new items beyond its limits are refused.") : "",
      h("ul", { class: "plan-list", "aria-label": "Plans" }, ...items));
  }

  function invoicesCard() {
    const rows = data.invoices.map((invoice) => h("li", { class: "invoice",
      "data-invoice": invoice.order_id || invoice.id || "" },
      h("p", { class: "invoice-period" }, h("strong", {}, planOf(invoice.plan)?.name
        || invoice.plan || "Plan"), " · ",
        `${ctx.ui.formatDate(invoice.period_start)} – ${ctx.ui.formatDate(invoice.period_end)}`),
      h("p", { class: "meta" }, price(invoice.amount, invoice.currency),
        invoice.paid_at ? ` · paid ${ctx.ui.formatDate(invoice.paid_at)}` : "",
        invoice.order_id ? ` · order ${invoice.order_id}` : "")));
    return h("section", { class: "card", "aria-labelledby": "billing-invoices" },
      h("h2", { id: "billing-invoices" }, "Paid periods"),
      rows.length ? h("ul", { class: "invoice-list" }, ...rows)
        : h("p", { class: "muted", "data-empty": "invoices" }, "No paid periods yet."));
  }

  async function choose(button, plan) {
    const paid = plan.price_amount > 0;
    const text = paid
      ? `Change to ${plan.name} for ${price(plan.price_amount, plan.currency, plan.interval)}? ` +
        "You will be taken to the payment page to pay."
      : `Change to ${plan.name} now? Nothing is deleted; new items beyond its limits are ` +
        "refused.";
    if (!(await ctx.ui.confirmDialog(text, { confirmLabel: paid ? "Go to payment" : "Change plan",
                                              danger: false }))) {
      button.focus();
      return;
    }
    const live = data.subscription && data.subscription.status !== "canceled";
    await act(button, { action: live ? "change_plan" : "subscribe", plan: plan.code,
                        return_url: returnUrl() }, `You are now on ${plan.name}.`);
  }

  async function cancel(button) {
    const sub = data.subscription;
    const end = sub.current_period_end ? ctx.ui.formatDate(sub.current_period_end) : "";
    const text = `Cancel the subscription? It stays as it is until ${end || "the end of the " +
      "period"} and is not charged again; then the free plan's limits apply. Nothing is deleted.`;
    if (!(await ctx.ui.confirmDialog(text, { confirmLabel: "Cancel subscription" }))) {
      button.focus();
      return;
    }
    await act(button, { action: "cancel" }, "The subscription ends at the end of the period.");
  }

  // POST an action; follow a checkout URL when the answer has one, else show the new state.
  async function act(button, json, message) {
    button.disabled = true;
    try {
      const answer = await ctx.api("POST", "/api/v3/subscription", { json });
      if (answer?.checkout_url) {
        rememberCheckout(json.plan, data.subscription);
        location.assign(answer.checkout_url);
        return;
      }
      data = await load(ctx);
      draw();
      ctx.ui.toast(message);
      root.querySelector("h1")?.focus();
    } catch (error) {
      button.disabled = false;
      ctx.ui.toast(error.message, { kind: "error" });
    }
  }

  function confirmed() {
    const sub = data.subscription;
    return Boolean(returned && sub && planCode(sub.plan) === returned.plan
      && ["active", "trialing"].includes(sub.status)
      && JSON.stringify(sub) !== returned.before);
  }

  function planOf(code) {
    const wanted = planCode(code);
    return data.plans.find((plan) => plan.code === wanted) || null;
  }

  // Back from a payment: the provider's notification may still be on its way, so ask again
  // for a while and show the subscription once it changed (the page may be gone by then).
  async function awaitConfirmation() {
    for (let round = 0; round < CONFIRM_POLLS; round += 1) {
      await new Promise((resolve) => { setTimeout(resolve, CONFIRM_POLL_MS); });
      if (!root.isConnected) return;
      let answer;
      try {
        answer = await ctx.api("GET", "/api/v3/subscription");
      } catch {
        continue; // offline for a moment: the next round asks again
      }
      if (JSON.stringify(answer?.subscription ?? null) !== JSON.stringify(data.subscription)) {
        data = await load(ctx);
        returned.confirmed = confirmed();
        if (root.isConnected) draw();
        if (returned.confirmed) return;
      }
    }
  }

  if (returned) returned.confirmed = confirmed();
  draw();
  if (returned && !returned.failed && !returned.confirmed) awaitConfirmation();
}

// GET /subscription answers the subscription (null if the organisation never subscribed),
// the plan whose limits apply now and the usage against each of them.
async function load(ctx) {
  const [plans, current, invoices] = await Promise.all([
    ctx.api("GET", "/api/v3/plans"),
    ctx.api("GET", "/api/v3/subscription"),
    ctx.api("GET", "/api/v3/billing/invoices"),
  ]);
  return {
    plans: (plans?.items || []).slice().sort((a, b) => (a.sort_order ?? 0) - (b.sort_order ?? 0)),
    subscription: current?.subscription ?? null,
    plan: current?.plan ?? null,
    usage: current?.usage || {},
    invoices: invoices?.items || [],
  };
}

function planCode(plan) {
  return plan && typeof plan === "object" ? plan.code : plan;
}

// Where the provider sends the browser back: this console's Billing page, marked as a return.
function returnUrl() {
  return `${location.origin}/?${RETURN_MARK}=1#/billing`;
}

// Before leaving for the checkout: the plan chosen and the subscription as it was, so the page
// can tell on return whether the payment has been applied yet (kept for this tab only).
function rememberCheckout(plan, subscription) {
  try {
    sessionStorage.setItem(CHECKOUT_KEY, JSON.stringify({
      plan, before: JSON.stringify(subscription ?? null) }));
  } catch {
    // No storage (a private window may refuse it): the notice then waits for a change.
  }
}

// Whether the browser came back from the checkout, and what the provider said: Midtrans adds
// order_id, status_code and transaction_status to the address (before or after the #). The
// address is then cleaned so a reload does not show the notice again.
function checkoutReturn() {
  const hashQuery = location.hash.includes("?") ? location.hash.split("?")[1] : "";
  const params = new URLSearchParams(location.search);
  for (const [key, value] of new URLSearchParams(hashQuery)) params.set(key, value);
  if (!params.has(RETURN_MARK) && !params.has("order_id")) return null;
  history.replaceState(null, "", `${location.pathname}#/billing`);
  let left = {};
  try {
    left = JSON.parse(sessionStorage.getItem(CHECKOUT_KEY) || "{}") || {};
    sessionStorage.removeItem(CHECKOUT_KEY);
  } catch {
    left = {};
  }
  const status = params.get("transaction_status") || "";
  return { plan: left.plan, before: left.before, failed: FAILED_RETURNS.has(status),
           confirmed: false };
}

function titled(code) {
  return code ? code.charAt(0).toUpperCase() + code.slice(1) : "—";
}

// Usage against limits: {assets: {used, limit}, devices: {...}, storage_bytes: {...}}.
function usageFigures(usage) {
  return USAGE.filter((item) => usage[item.key] && typeof usage[item.key] === "object")
    .map((item) => ({ ...item, used: usage[item.key].used, limit: usage[item.key].limit }));
}

function limitText(limit, noun) {
  if (limit === null || limit === undefined) return `Unlimited ${noun}s`;
  return `${limit.toLocaleString()} ${noun}${limit === 1 ? "" : "s"}`;
}

// Amounts are integers in the currency's whole unit (IDR: rupiah), as the plans hold them.
function price(amount, currency, interval) {
  let text;
  try {
    text = new Intl.NumberFormat(undefined, { style: "currency", currency,
      currencyDisplay: "narrowSymbol", minimumFractionDigits: 0 }).format(amount);
  } catch {
    text = `${amount} ${currency || ""}`.trim();
  }
  return interval ? `${text} a ${interval}` : text;
}

function sizeText(bytes) {
  if (bytes >= GB) {
    return `${(bytes / GB).toLocaleString(undefined, { maximumFractionDigits: 1 })} GB`;
  }
  if (bytes >= 1024 ** 2) return `${Math.round(bytes / 1024 ** 2).toLocaleString()} MB`;
  return `${Math.round(bytes / 1024).toLocaleString()} KB`;
}
