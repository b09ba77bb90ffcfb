// Tizbek web app: the outbox. Every submission signed in this browser is kept in IndexedDB with
// its exact bytes before anything is sent, so a resend is the identical submission: the log
// answers 200 with the original entry, and keeps the event once. Items move
// queued -> sending -> logged (with their seq) or refused (with the problem's detail); a network
// failure or a 5xx/429 puts them back to queued. The outbox is sent on load, when the browser
// comes online, after each new item and every 20 seconds while items wait.
import * as store from "/static/app/store.js";

const RETRY_MS = 20_000;
const LOCK = "tizbek-outbox";
const channel = "BroadcastChannel" in self ? new BroadcastChannel(LOCK) : null;

function changed() {
  window.dispatchEvent(new CustomEvent("tizbek-outbox"));
  if (channel) channel.postMessage("changed");
}
if (channel) channel.onmessage = () => window.dispatchEvent(new CustomEvent("tizbek-outbox"));

export async function items() {
  const found = await store.all("outbox");
  return found.sort((a, b) => a.created.localeCompare(b.created) || a.id.localeCompare(b.id));
}

/** Keep a signed submission (its exact JSON `body`) and try to send it. */
export async function enqueue(submission, body, summary) {
  const event = submission.event;
  const item = {
    id: `${event.key}:${event.nonce}`,
    body,
    type: event.type,
    summary: summary || event.type,
    at: event.at,
    created: new Date().toISOString(),
    state: "queued",
    tries: 0,
    seq: null,
    leaf_hash: null,
    detail: null,
  };
  await store.put("outbox", item);
  changed();
  return item;
}

/** POST one item's exact bytes; what became of it. */
async function post(item) {
  let response;
  try {
    response = await fetch("/v1/events", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: item.body,
      cache: "no-store",
    });
  } catch (error) {
    return { ...item, state: "queued", detail: String(error) };
  }
  let answer = null;
  try { answer = await response.json(); } catch (_) { answer = null; }
  if (response.status === 200 || response.status === 201) {
    return {
      ...item, state: "logged", seq: answer.seq, leaf_hash: answer.leaf_hash, detail: null,
      duplicate: response.status === 200,
    };
  }
  if (response.status >= 500 || response.status === 429) {
    return { ...item, state: "queued", detail: answer && answer.detail };
  }
  return {
    ...item, state: "refused", code: answer && answer.code,
    detail: (answer && answer.detail) || `HTTP ${response.status}`,
  };
}

async function sendWaiting() {
  const waiting = (await items()).filter((i) => i.state === "queued" || i.state === "sending");
  const results = [];
  for (const item of waiting) {
    if (!navigator.onLine) break;
    await store.put("outbox", { ...item, state: "sending", tries: item.tries + 1 });
    changed();
    const after = await post({ ...item, tries: item.tries + 1 });
    await store.put("outbox", after);
    changed();
    results.push(after);
  }
  return results;
}

/** Send every waiting item, one browser tab at a time. */
export async function flush() {
  if (!navigator.onLine) return [];
  if (navigator.locks) return navigator.locks.request(LOCK, sendWaiting);
  return sendWaiting();
}

/** Send a logged item's identical bytes again: the log answers with the same entry. */
export async function resend(id) {
  const item = await store.get("outbox", id);
  if (!item) throw new Error(`no outbox item ${id}`);
  const again = await post(item);
  return { status: again.state, seq: again.seq, duplicate: again.duplicate === true };
}

/** Wait until the item `id` is logged or refused. */
export function settled(id) {
  return new Promise((resolve) => {
    const check = async () => {
      const item = await store.get("outbox", id);
      if (item && (item.state === "logged" || item.state === "refused")) {
        window.removeEventListener("tizbek-outbox", check);
        resolve(item);
      }
    };
    window.addEventListener("tizbek-outbox", check);
    check();
  });
}

let started = false;

/** Send on load, on `online`, and every RETRY_MS while items wait. */
export function start() {
  if (started) return;
  started = true;
  window.addEventListener("online", () => flush());
  setInterval(() => flush(), RETRY_MS);
  flush();
}
