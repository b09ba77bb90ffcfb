// Tizbek web app: the outbox page lists every event signed in this browser and its state.
import * as queue from "/static/app/queue.js";
import { say } from "/static/app/messages.js";

const body = document.getElementById("queue-items");

async function render() {
  const found = (await queue.items()).reverse();
  body.replaceChildren();
  if (!found.length) {
    const row = body.insertRow();
    const cell = row.insertCell();
    cell.colSpan = 3;
    cell.textContent = say("empty");
    return;
  }
  for (const item of found) {
    const row = body.insertRow();
    row.dataset.id = item.id;
    row.dataset.state = item.state;
    if (item.seq !== null) row.dataset.seq = String(item.seq);
    row.insertCell().textContent = item.summary;
    const at = row.insertCell();
    const time = document.createElement("time");
    time.dateTime = item.at;
    time.textContent = new Date(item.at).toLocaleString(document.documentElement.lang);
    at.append(time);
    const state = row.insertCell();
    const badge = document.createElement("span");
    badge.className = "state";
    badge.dataset.state = item.state;
    badge.textContent = item.state === "logged"
      ? say("logged", { seq: item.seq })
      : item.state === "refused" ? say("refused", { detail: item.detail }) : say(item.state);
    state.append(badge);
  }
}

window.addEventListener("tizbek-outbox", render);
document.getElementById("queue-send").addEventListener("click", () => queue.flush());
render();
