// Tizbek web app, inspectors: start the server's full audit of the log and follow its progress.
const messages = JSON.parse(document.getElementById("audit-messages").textContent);
const section = document.getElementById("audit");
const form = document.getElementById("audit-form");
const button = document.getElementById("audit-start");
let polling = null;

function say(key, values = {}) {
  return messages[key].replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

function paragraph(text, className, id) {
  const p = document.createElement("p");
  p.textContent = text;
  if (className) p.className = className;
  if (id) p.id = id;
  return p;
}

function show(run) {
  if (run.state === "none") return;
  section.hidden = false;
  section.dataset.state = run.state;
  document.getElementById("audit-heading").textContent = say("started", run.text);
  const bar = document.getElementById("audit-progress");
  bar.value = run.percent;
  document.getElementById("audit-count").textContent = say("count", { ...run.text, percent: run.percent });
  const result = document.getElementById("audit-result");
  result.replaceChildren();
  if (run.state === "running") return;
  if (run.state === "ok") {
    result.append(paragraph(say("ok", run.text), "notice good", "audit-ok"));
  }
  if (run.failure) {
    const f = run.failure;
    const p = paragraph(
      f.seq === null ? say("failed", f) : say("failed_at", f),
      "notice bad", "audit-failure");
    p.dataset.seq = f.seq === null ? "" : String(f.seq);
    p.dataset.check = f.check;
    result.append(p);
  }
  if (run.violations && run.violations.length) {
    result.append(paragraph(say("violations", { count: run.violations.length }), "notice bad"));
    const list = document.createElement("ul");
    list.id = "audit-violations";
    for (const v of run.violations) {
      const li = document.createElement("li");
      li.dataset.seq = String(v.seq);
      li.textContent = say("entry", v);
      list.append(li);
    }
    result.append(list);
  }
  if (run.checkpoint) {
    result.append(paragraph(say("checkpoint", { size: run.text.size, root: run.checkpoint.root.slice(0, 16) }),
      "hint", "audit-checkpoint"));
  }
}

async function poll() {
  const answer = await fetch("/app/inspector/audit/progress", { headers: { accept: "application/json" } });
  if (!answer.ok) return;
  const run = await answer.json();
  show(run);
  if (run.state !== "running") {
    clearInterval(polling);
    polling = null;
  }
}

function follow() {
  if (!polling) polling = setInterval(poll, 500);
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  button.disabled = true;
  const answer = await fetch(form.action, { method: "POST", headers: { accept: "application/json" } });
  if (!answer.ok) {
    button.disabled = false;
    return;
  }
  const run = await answer.json();
  button.disabled = false;
  document.getElementById("audit-note").hidden = run.started_now !== false;
  show(run);
  follow();
});

const initial = JSON.parse(document.getElementById("audit-run").textContent);
show(initial);
if (initial.state === "running") follow();
