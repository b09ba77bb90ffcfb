// Tizbek web app: what every page does. Sends the outbox, shows how many events wait in it and
// whether the browser is online, and warns when this browser cannot sign for the organisation.
import * as queue from "/static/app/queue.js";
import { describeKey, keyState } from "/static/app/binding.js";
import { say } from "/static/app/messages.js";

const indicator = document.getElementById("queue-indicator");

async function showQueue() {
  if (!indicator) return;
  const waiting = (await queue.items()).filter((i) => i.state === "queued" || i.state === "sending");
  document.getElementById("queue-count").textContent = String(waiting.length);
  indicator.dataset.waiting = String(waiting.length);
  indicator.dataset.online = String(navigator.onLine);
}

async function warnAboutKey() {
  const org = document.body.dataset.actor;
  const warning = document.getElementById("key-warning");
  const status = document.getElementById("key-status");
  if (!org || (!warning && !status) || location.pathname === "/app/key") return;
  const found = await keyState(org);
  if (warning) {
    warning.hidden = !["none", "unbound", "revoked", "other-org"].includes(found.state);
  }
  if (status) {
    const [kind, words] = describeKey(found, org, say);
    status.dataset.state = found.state;
    status.className = `notice ${kind}`;
    status.textContent = words;
  }
}

if (indicator) {
  window.addEventListener("tizbek-outbox", showQueue);
  window.addEventListener("online", showQueue);
  window.addEventListener("offline", showQueue);
  showQueue();
  queue.start();
  warnAboutKey();
}
