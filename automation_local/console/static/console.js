// The local console: plain JavaScript against the runtime's JSON API (/api/...), no build step.
// The view follows the address's hash: #/ (flow and orders), #/orders/<id>, #/dlq/<queue>.
"use strict";

const REFRESH_MS = 2000;
const COST_REFRESH_MS = 5000;
const ACTION_HEADERS = { "content-type": "application/json", "x-console": "1" };
const $ = (selector) => document.querySelector(selector);

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "class") node.className = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : String(child));
  return node;
}

async function api(path, options = {}) {
  const answer = await fetch(path, options);
  const document = await answer.json();
  if (!answer.ok && answer.status !== 404) throw new Error(document.error || `HTTP ${answer.status}`);
  return { status: answer.status, document };
}

function showProblem(error) {
  const problem = $("#problem");
  problem.hidden = !error;
  problem.textContent = error ? `The console could not read the runtime: ${error.message}` : "";
}

function statusLabel(status) {
  return element("span", { class: `status status-${status}` }, status);
}

function orderLink(orderId) {
  return element("a", { href: `#/orders/${orderId}`, class: "order-link" }, orderId);
}

// ---------------------------------------------------------------- flow
function figure(name, value, bad = false) {
  return element("div", { class: "figure", "data-figure": name }, element("span", {}, name),
    element("span", { class: bad && value > 0 ? "value bad" : "value" }, value));
}

function queueStage(id, title, counts, dlq) {
  return element("div", { class: dlq ? "stage dlq" : "stage queue", id: `stage-${id}` },
    element("h4", {}, dlq ? element("a", { href: `#/dlq/${dlq}` }, title) : title),
    figure("visible", counts.visible, dlq), figure("in flight", counts.in_flight), figure("delayed", counts.delayed));
}

function functionStage(id, title, stats) {
  stats = stats || {};
  return element("div", { class: "stage", id: `stage-${id}` }, element("h4", {}, title),
    figure("received", stats.received ?? 0), figure("invocations", stats.invocations ?? 0),
    figure("errors", stats.invocation_errors ?? 0, true), figure("failed records", stats.reported_failures ?? 0, true),
    figure("filtered out", stats.filtered_out ?? 0));
}

function renderFlow(flow) {
  const q = flow.queues;
  const arrow = () => element("span", { class: "arrow" }, "→");
  const webhook = element("div", { class: "stage", id: "stage-webhook" }, element("h4", {}, "webhook"),
    figure("requests", flow.webhook.requests), figure("accepted", flow.webhook.accepted),
    figure("refused (4xx)", flow.webhook.refused), figure("errors (5xx)", flow.webhook.errors, true));
  const actions = element("div", { class: "column actions" },
    ...Object.entries(flow.actions).map(([action, n]) =>
      element("div", { class: "stage", id: `action-${action}` }, figure(action, n))));
  $("#flow").replaceChildren(webhook, arrow(),
    element("div", { class: "column" }, queueStage("order", "order queue", q.order),
      queueStage("order-dlq", "order DLQ", q["order-dlq"], "order")),
    arrow(), functionStage("worker", "worker", flow.functions.worker), arrow(),
    element("div", { class: "column" }, queueStage("result", "result queue", q.result),
      queueStage("result-dlq", "result DLQ", q["result-dlq"], "result")),
    arrow(), functionStage("feedback", "feedback", flow.functions.feedback), arrow(), actions);
  $("#nav-order-dlq").textContent = `Order DLQ (${q["order-dlq"].total})`;
  $("#nav-result-dlq").textContent = `Result DLQ (${q["result-dlq"].total})`;
}

function renderOrders(latest) {
  const counts = Object.entries(latest.byStatus).map(([s, n]) => `${s} ${n}`).join(", ");
  // The server answers from a reading of the table it keeps for a few seconds (orders.py says why).
  $("#order-counts").textContent = `${latest.total} in the table${counts ? `: ${counts}` : ""}`
    + ` (read ${Math.round(latest.readSecondsAgo)} s ago)`;
  $("#orders tbody").replaceChildren(...latest.orders.map((o) => element("tr", { "data-order-id": o.orderId },
    element("td", {}, orderLink(o.orderId)), element("td", {}, statusLabel(o.status)),
    element("td", {}, o.retryCount), element("td", {}, o.taskType), element("td", {}, o.userId),
    element("td", {}, o.updatedAt))));
}

function renderCost(cost) {
  const box = $("#cost");
  if (!cost.orders) { box.replaceChildren(element("p", { class: "muted" }, "No orders yet.")); return; }
  if (cost.error) { box.replaceChildren(element("p", {}, `${cost.orders} orders; cost unknown: ${cost.error}`)); return; }
  const services = Object.entries(cost.byService).filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]);
  box.replaceChildren(
    element("p", {}, element("span", { class: "cost-total", id: "cost-per-million" }, `$${cost.perMillionOrders.toFixed(2)}`),
      ` per million orders (${cost.region}), from the usage of the ${cost.orders} order${cost.orders === 1 ? "" : "s"} so far;`
      + ` $${cost.monthlyFixed.toFixed(2)} a month fixed.`),
    element("table", {}, element("tbody", {}, ...services.map(([service, dollars]) =>
      element("tr", {}, element("td", {}, service), element("td", {}, `$${dollars.toFixed(2)}`))))));
}

// ---------------------------------------------------------------- the test order form
async function newOrder() {
  const { document } = await api(`/api/sample-order?taskType=${encodeURIComponent($("#task-type").value)}`);
  $("#order-document").value = JSON.stringify(document, null, 2);
}

async function submitOrder(event) {
  event.preventDefault();
  const body = $("#order-document").value;
  let document;
  try {
    ({ document } = await api("/api/orders", { method: "POST", headers: ACTION_HEADERS, body }));
  } catch (error) {
    showProblem(error);
    return;
  }
  // The webhook answers one order with its status, a batch with `orders`.
  const answer = document.webhookAnswer || {};
  const answered = answer.orders || (answer.orderId ? [answer] : []);
  const accepted = answered.filter((o) => ["queued", "duplicate"].includes(o.status)).map((o) => o.orderId);
  $("#submit-answer").replaceChildren(`webhook answered HTTP ${document.webhookStatus} `,
    element("code", {}, JSON.stringify(document.webhookAnswer)), " ",
    ...accepted.map((id) => element("span", {}, "→ ", orderLink(id))));
  if (accepted.length) await newOrder();
}

// ---------------------------------------------------------------- one order
function renderOrder(found) {
  if (found.error) { $("#order-status").textContent = found.error; return; }
  const record = found.record;
  $("#order-status").replaceChildren(statusLabel(record.status));
  $("#order-status").dataset.final = found.final;
  $("#order-message").textContent = JSON.stringify(found.message, null, 2);
  $("#order-history").replaceChildren(...(record.history || []).map((entry) =>
    element("li", {}, statusLabel(entry.status), ` at ${entry.at}`)));
  $("#order-results").replaceChildren(...(found.results.length ? found.results.map((r) =>
    element("div", { class: "result" }, element("h4", {}, element("code", {}, r.key)),
      element("pre", {}, JSON.stringify(r.result, null, 2))))
    : [element("p", { class: "muted" }, "No result stored yet.")]));
  $("#order-correlation").textContent = found.correlationId;
  const known = new Set(["timestamp", "function", "level", "message", "location", "service", "correlation_id",
    "order_id", "cold_start", "function_name", "function_memory_size", "function_arn", "function_request_id", "xray_trace_id", "sampling_rate"]);
  $("#order-logs tbody").replaceChildren(...found.logLines.map((line) => {
    const details = Object.fromEntries(Object.entries(line).filter(([k]) => !known.has(k)));
    return element("tr", { class: "log-line" }, element("td", {}, line.timestamp || ""), element("td", {}, line.function),
      element("td", {}, line.level || ""), element("td", {}, line.message ?? ""),
      element("td", {}, element("code", {}, Object.keys(details).length ? JSON.stringify(details) : "")));
  }));
}

// ---------------------------------------------------------------- a DLQ
function renderDeadLetters(found) {
  $("#dlq-url").textContent = found.queueUrl;
  $("#dlq-messages tbody").replaceChildren(...found.messages.map((m) => element("tr", { class: "dlq-message" },
    element("td", {}, element("code", {}, m.messageId)), element("td", { class: "receive-count" }, m.receiveCount),
    element("td", {}, new Date(m.sentAt).toISOString()), element("td", {}, element("pre", { class: "body" }, m.body)))));
  if (!found.messages.length) {
    $("#dlq-messages tbody").replaceChildren(element("tr", {}, element("td", { colspan: 4, class: "muted" }, "Empty.")));
  }
}

async function redriveQueue() {
  const queue = currentRoute().queue;
  $("#redrive").disabled = true;
  $("#redrive-report").textContent = "moving...";
  try {
    const { document } = await api(`/api/dead-letters/${queue}/redrive`, { method: "POST", headers: ACTION_HEADERS });
    $("#redrive-report").textContent = `moved ${document.moved} to the ${queue} queue (${document.method})`
      + (document.left ? `; ${document.left} left` : "");
  } finally {
    $("#redrive").disabled = false;
  }
  await refresh({ again: true });
}

// ---------------------------------------------------------------- routing and refresh
function currentRoute() {
  const [, view, argument] = (location.hash || "#/").split("/");
  if (view === "orders" && argument) return { view: "order", orderId: argument };
  if (view === "dlq" && argument) return { view: "dlq", queue: argument };
  return { view: "home" };
}

async function refreshView({ again = false } = {}) {
  const route = currentRoute();
  try {
    if (route.view === "home") {
      const [flow, latest] = await Promise.all([api("/api/flow"), api("/api/orders")]);
      renderFlow(flow.document);
      renderOrders(latest.document);
    } else if (route.view === "order") {
      $("#order-id").textContent = route.orderId;
      renderOrder((await api(`/api/orders/${route.orderId}`)).document);
    } else {
      $("#dlq-name").textContent = route.queue;
      // A look is a receive (it counts in each message's receive count): an action, sent as the others are.
      const peek = `/api/dead-letters/${route.queue}/peek${again ? "?again=1" : ""}`;
      renderDeadLetters((await api(peek, { method: "POST", headers: ACTION_HEADERS })).document);
    }
    showProblem(null);
  } catch (error) {
    showProblem(error);
  }
}

async function refreshCostView() {
  if (currentRoute().view !== "home") return;
  try { renderCost((await api("/api/cost")).document); } catch (error) { showProblem(error); }
}

// Runs `task` now and again `periodMs` after each run has ended, never two runs at once: on
// a fixed beat (setInterval) an answer slower than the beat had the next poll start on top
// of it, and the load piled up on the console and the emulator exactly when they were slow.
// A run asked for while one is in flight (a hash change, a button) follows it, with the
// options it was asked with (merged, if asked more than once).
function poller(task, periodMs) {
  let inFlight = false;
  let asked = null;
  let timer = null;
  const run = async (options = {}) => {
    if (inFlight) { asked = { ...asked, ...options }; return; }
    clearTimeout(timer);
    inFlight = true;
    try { await task(options); } catch (error) { showProblem(error); } finally { inFlight = false; }
    if (asked) { const next = asked; asked = null; run(next); } else timer = setTimeout(run, periodMs);
  };
  return run;
}

const refresh = poller(refreshView, REFRESH_MS);
const refreshCost = poller(refreshCostView, COST_REFRESH_MS);

function show() {
  const route = currentRoute();
  $("#view-home").hidden = route.view !== "home";
  $("#view-order").hidden = route.view !== "order";
  $("#view-dlq").hidden = route.view !== "dlq";
  refresh({ again: route.view === "dlq" });
  refreshCost();
}

async function start() {
  const { document: about } = await api("/api/about");
  $("#stack-name").textContent = `${about.stackName} (${about.queueType} queues), webhook ${about.webhookUrl}`;
  $("#task-type").replaceChildren(...about.taskTypes.map((t) => element("option", { value: t }, t)));
  $("#task-type").value = "text-processing";
  $("#task-type").addEventListener("change", newOrder);
  $("#new-order").addEventListener("click", newOrder);
  $("#order-form").addEventListener("submit", submitOrder);
  $("#redrive").addEventListener("click", redriveQueue);
  $("#peek-again").addEventListener("click", () => refresh({ again: true }));
  window.addEventListener("hashchange", show);
  await newOrder();
  show();  // starts both pollers
}

start().catch(showProblem);
