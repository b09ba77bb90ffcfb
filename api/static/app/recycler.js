// Tizbek web app, the recycler's forms: a receipt row shows the fields its outcome needs and how
// far the measured weight is from the declared one; a treatment adds and removes output fractions
// and shows their total against the lot's weight. forms.js signs both.
import { grams } from "/static/app/forms.js";
import { say } from "/static/app/messages.js";

const number = (value) => new Intl.NumberFormat(document.documentElement.lang, {
  maximumFractionDigits: 3,
}).format(value);

// Receipt: outcome fields and the difference from the declared weight.
const receipt = document.getElementById("receive-form");
if (receipt) {
  const percent = Number(receipt.dataset.percent);
  for (const row of receipt.querySelectorAll("[data-receipt-lot]")) {
    const sync = () => {
      const outcome = row.querySelector('input[type="radio"]:checked').value;
      for (const field of row.querySelectorAll("[data-when]")) {
        field.hidden = !field.dataset.when.split(" ").includes(outcome);
      }
      const declared = Number(row.dataset.declared);
      const measured = grams(row.querySelector('[data-field="weight"]').value);
      const note = row.querySelector('[data-role="difference"]');
      if (measured === null) { note.hidden = true; return; }
      const off = ((measured - declared) * 100) / declared;
      note.hidden = false;
      note.dataset.discrepancy = String(Math.abs(off) > percent);
      note.textContent = say(Math.abs(off) > percent ? "discrepancy_ahead" : "within_tolerance", {
        off: `${off > 0 ? "+" : ""}${number(Math.round(off * 10) / 10)}`, percent,
      });
    };
    row.addEventListener("change", sync);
    row.addEventListener("input", sync);
    sync();
  }
}

// Treatment: output fractions.
const treatment = document.getElementById("process-form");
if (treatment) {
  const list = document.getElementById("outputs");
  const total = document.getElementById("outputs-total");
  const input = Number(treatment.dataset.input);
  const template = list.querySelector("[data-output]").cloneNode(true);
  let made = 1;
  const sync = () => {
    const rows = list.querySelectorAll("[data-output]");
    for (const row of rows) row.querySelector("[data-remove]").hidden = rows.length === 1;
    let sum = 0;
    for (const row of rows) sum += grams(row.querySelector('[data-field="weight"]').value) || 0;
    total.textContent = total.dataset.template
      .replace("{total}", number(sum / 1000)).replace("{input}", number(input / 1000));
  };
  const renumber = (row) => {
    const n = made++;
    for (const label of row.querySelectorAll("label[for]")) {
      const field = row.querySelector(`#${CSS.escape(label.htmlFor)}`);
      const id = label.htmlFor.replace(/-\d+$/, `-${n}`);
      label.htmlFor = id;
      field.id = id;
    }
  };
  document.getElementById("output-add").addEventListener("click", () => {
    const row = template.cloneNode(true);
    renumber(row);
    list.append(row);
    sync();
    row.querySelector("select").focus();
  });
  list.addEventListener("click", (event) => {
    const button = event.target.closest("[data-remove]");
    if (!button) return;
    const rows = list.querySelectorAll("[data-output]");
    if (rows.length > 1) button.closest("[data-output]").remove();
    sync();
    list.querySelector("select").focus();
  });
  list.addEventListener("input", sync);
  sync();
}
