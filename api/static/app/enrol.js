// Tizbek web app: the key page. Makes this browser's Ed25519 key (non-extractable), shows its key
// id and public key for a key.bound event, and checks with the log whether it is bound.
import { makeKey } from "/static/app/signing.js";
import { describeKey, keyState } from "/static/app/binding.js";
import { say } from "/static/app/messages.js";

const org = document.body.dataset.actor;
const status = document.getElementById("key-status");

function show(state, text) {
  status.dataset.state = state;
  status.className = `notice ${describeKey({ state }, org, say)[0]}`;
  status.textContent = text;
}

async function refresh() {
  show("checking", say("checking"));
  const found = await keyState(org);
  document.getElementById("key-none").hidden = found.state !== "none";
  document.getElementById("key-shown").hidden = !found.key;
  if (found.key) {
    document.getElementById("key-id").textContent = found.key.keyId;
    document.getElementById("key-public").textContent = found.key.publicKey;
    document.getElementById("key-command-public").textContent = found.key.publicKey;
  }
  show(found.state, describeKey(found, org, say)[1]);
  const demo = document.getElementById("key-demo-bind");
  if (demo) demo.hidden = found.state !== "unbound";
  return found;
}

document.getElementById("key-make").addEventListener("click", async () => {
  try {
    await makeKey(org);
  } catch (error) {
    show("unsupported", say("unsupported"));
    return;
  }
  await refresh();
});

document.getElementById("key-check").addEventListener("click", refresh);

const demo = document.getElementById("key-demo-bind");
if (demo) {
  demo.addEventListener("click", async () => {
    const found = await keyState(org);
    if (!found.key) return;
    demo.disabled = true;
    const response = await fetch("/app/key/demo-bind", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ public_key: found.key.publicKey, label: "web app (demo)" }),
    });
    demo.disabled = false;
    if (!response.ok) {
      const problem = await response.json().catch(() => ({}));
      show("unbound", problem.detail || `HTTP ${response.status}`);
      return;
    }
    await refresh();
  });
}

refresh();
