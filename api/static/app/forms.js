// Tizbek web app: forms whose submission is a signed event (form[data-sign="<type>"]). The page
// builds the event from the form, signs it with this browser's key and puts it in the outbox,
// which sends it now or when the connection returns. Nothing is posted to the app's server.
import { buildEvent, loadKey, pageSigner, sha256Hex, signEvent } from "/static/app/signing.js";
import * as queue from "/static/app/queue.js";
import { normaliseLot } from "/static/app/lots.js";
import { say } from "/static/app/messages.js";

class FormProblem extends Error {}

/** Kilograms as typed ("182.5", "182,5", "1 250") to whole grams, or null. */
export function grams(text) {
  const plain = String(text || "").replace(/[\s\u00a0\u202f]/g, "").replace(",", ".");
  const match = /^(\d{1,9})(?:\.(\d{1,3}))?$/.exec(plain);
  if (!match) return null;
  const value = Number(match[1]) * 1000 + Number((match[2] || "").padEnd(3, "0"));
  return value > 0 ? value : null;
}

const builders = {
  async "lot.registered"(form) {
    const data = new FormData(form);
    const lot = normaliseLot(data.get("lot"));
    if (!lot) throw new FormProblem(say("scan_not_label"));
    const wasteCode = String(data.get("waste_code"));
    const hazardous = wasteCode.endsWith("*");
    const weight = grams(data.get("weight_kg"));
    if (weight === null) throw new FormProblem(say("bad_weight"));
    const fields = {
      lot,
      category: Number(data.get("category")),
      waste_code: wasteCode,
      hazardous,
      hp_codes: hazardous ? data.getAll("hp_codes").map(String) : [],
      items: Number(data.get("items")),
      weight_g: weight,
      weight_measured: data.get("weight_measured") !== null,
      source: String(data.get("source")),
      site: String(data.get("site") || "").trim(),
    };
    const producer = data.get("producer");
    if (producer) fields.producer = String(producer);
    const photo = data.get("photo");
    if (photo && photo.size) fields.photo_sha256 = await sha256Hex(await photo.arrayBuffer());
    const kg = new Intl.NumberFormat(document.documentElement.lang).format(weight / 1000);
    return { fields, summary: `${lot} · ${wasteCode} · ${kg} ${say("kg")}` };
  },

  async "transfer.dispatched"(form) {
    const data = new FormData(form);
    const lots = Array.from(form.querySelectorAll('input[name="lots"]'), (input) => ({
      lot: input.value, after: input.dataset.after, weight_g: Number(input.dataset.weight),
    }));
    const to = data.get("to");
    if (!to) throw new FormProblem(say("choose_recycler"));
    const fields = { transfer: String(data.get("transfer")).trim(), lots, to: String(to) };
    const transporter = data.get("transporter");
    if (transporter) fields.transporter = String(transporter);
    const vehicle = String(data.get("vehicle") || "").trim();
    if (vehicle) fields.vehicle = vehicle;
    return { fields, summary: `${fields.transfer} → ${fields.to} · ${lots.map((l) => l.lot).join(", ")}` };
  },

  async "transfer.taken_over"(form) {
    const fields = { transfer: form.dataset.transfer, after: form.dataset.after };
    const vehicle = String(new FormData(form).get("vehicle") || "").trim();
    if (vehicle) fields.vehicle = vehicle;
    return { fields, summary: `${fields.transfer} · ${vehicle}`.replace(/ · $/, "") };
  },

  async "transfer.received"(form) {
    const lots = [];
    for (const row of form.querySelectorAll("[data-receipt-lot]")) {
      const lot = row.dataset.receiptLot;
      const value = (name) => String(row.querySelector(`[data-field="${name}"]`).value || "").trim();
      const weight = grams(value("weight"));
      if (weight === null) throw new FormProblem(`${lot}: ${say("bad_weight")}`);
      const outcome = row.querySelector('input[type="radio"]:checked').value;
      const item = { lot, after: row.dataset.after, weight_g: weight, outcome };
      if (outcome !== "accepted") {
        item.reason = value("reason");
        if (!item.reason) throw new FormProblem(`${lot}: ${say("need_reason")}`);
      }
      if (outcome === "partially_refused") {
        const refused = grams(value("refused"));
        if (refused === null || refused >= weight) throw new FormProblem(`${lot}: ${say("bad_refused")}`);
        item.refused_weight_g = refused;
        item.return_lot = value("return_lot");
        if (!/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/.test(item.return_lot)) {
          throw new FormProblem(`${lot}: ${say("bad_return_lot")}`);
        }
      }
      lots.push(item);
    }
    const fields = { transfer: form.dataset.transfer, after: form.dataset.after, lots };
    return { fields, summary: `${fields.transfer} · ${lots.map((l) => `${l.lot} ${l.outcome}`).join(", ")}` };
  },

  async "lot.processed"(form) {
    const outputs = [];
    for (const row of form.querySelectorAll("[data-output]")) {
      const typed = String(row.querySelector('[data-field="waste_code"]').value).replace(/\s/g, "");
      const code = /^(\d{2})(\d{2})(\d{2})(\*?)$/.exec(typed);
      if (!code) throw new FormProblem(say("bad_waste_code"));
      const weight = grams(row.querySelector('[data-field="weight"]').value);
      if (weight === null) throw new FormProblem(say("bad_weight"));
      outputs.push({
        material: String(row.querySelector('[data-field="material"]').value),
        waste_code: `${code[1]} ${code[2]} ${code[3]}${code[4]}`,
        weight_g: weight,
      });
    }
    const operation = String(new FormData(form).get("operation") || "");
    const fields = { lot: form.dataset.lot, after: form.dataset.after, operation, outputs };
    return { fields, summary: `${fields.lot} · ${operation} · ${outputs.map((o) => o.material).join(", ")}` };
  },
};

/** Sign an event of `type` with this browser's key and put it in the outbox; the outbox item. */
export async function signAndQueue(type, fields, summary) {
  const signer = pageSigner();
  const key = await loadKey(signer.actor);
  if (!key) throw new FormProblem(say("no_key"));
  const event = buildEvent(type, fields, { ...signer, keyId: key.keyId });
  const { submission, body } = await signEvent(key, event);
  const item = await queue.enqueue(submission, body, summary);
  queue.flush();
  return item;
}

function report(form, kind, text, seq) {
  const result = form.querySelector("#form-result");
  result.hidden = false;
  result.className = `notice ${kind}`;
  result.textContent = text;
  if (seq === undefined) delete result.dataset.seq;
  else result.dataset.seq = String(seq);
}

for (const form of document.querySelectorAll("form[data-sign]")) {
  form.addEventListener("submit", async (submitEvent) => {
    submitEvent.preventDefault();
    const type = form.dataset.sign;
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      const { fields, summary } = await builders[type](form);
      const item = await signAndQueue(type, fields, summary);
      form.dataset.outboxId = item.id;
      report(form, "warn", say("signed_queued"));
      if (type === "lot.registered") {
        form.querySelector("#lot").value = "";
        const photo = form.querySelector("#photo");
        if (photo) photo.value = "";
      }
      queue.settled(item.id).then((done) => {
        if (form.dataset.outboxId !== item.id) return;
        if (done.state === "logged") {
          report(form, "good", say("signed_logged", { seq: done.seq }), done.seq);
        }
        else report(form, "bad", say("refused", { detail: done.detail }));
      });
    } catch (error) {
      report(form, "bad", error instanceof FormProblem ? error.message : String(error));
    } finally {
      button.disabled = false;
    }
  });
}

// Registration: hazardous properties only for hazardous codes; the camera fills the lot id.
const wasteCode = document.getElementById("waste_code");
const hpCodes = document.getElementById("hp-codes");
if (wasteCode && hpCodes) {
  const sync = () => {
    hpCodes.hidden = wasteCode.selectedOptions[0].dataset.hazardous !== "true";
  };
  wasteCode.addEventListener("change", sync);
  sync();
}

const scanStart = document.getElementById("scan-start");
if (scanStart) {
  const panel = document.getElementById("scanner");
  const status = document.getElementById("scan-status");
  let stop = null;
  const close = () => { if (stop) stop(); stop = null; panel.hidden = true; };
  document.getElementById("scan-stop").addEventListener("click", close);
  scanStart.addEventListener("click", async () => {
    panel.hidden = false;
    try {
      const { scan } = await import("/static/app/scanner.js");
      stop = await scan(document.getElementById("scan-video"), {
        onLot(lot) {
          stop = null;
          panel.hidden = true;
          const field = document.getElementById("lot");
          field.value = lot;
          field.dataset.scanned = "true";
          const result = document.getElementById("form-result");
          result.hidden = false;
          result.className = "notice good";
          result.textContent = say("scan_found", { lot });
          delete result.dataset.seq;
          document.getElementById("items").focus();
        },
        onOther() { status.textContent = say("scan_not_label"); },
      });
    } catch (error) {
      close();
      status.textContent = say("scan_no_camera");
      const result = document.getElementById("form-result");
      result.hidden = false;
      result.className = "notice warn";
      result.textContent = say("scan_no_camera");
      document.getElementById("lot").focus();
    }
  });
}
