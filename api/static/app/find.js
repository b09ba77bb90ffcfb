// Tizbek web app: find a lot by its label. The camera (scanner.js) reads the label's QR code and
// the page's find form goes to the lot's page at once; typing the id and pressing Find works too.
import { say } from "/static/app/messages.js";

const form = document.getElementById("find-form");
const start = document.getElementById("find-scan");
if (form && start) {
  const panel = document.getElementById("find-scanner");
  const status = document.getElementById("find-status");
  const field = document.getElementById("find-lot");
  let stop = null;
  const close = () => { if (stop) stop(); stop = null; panel.hidden = true; };
  document.getElementById("find-stop").addEventListener("click", close);
  start.addEventListener("click", async () => {
    panel.hidden = false;
    try {
      const { scan } = await import("/static/app/scanner.js");
      stop = await scan(document.getElementById("find-video"), {
        onLot(lot) {
          stop = null;
          panel.hidden = true;
          field.value = lot;
          status.textContent = say("scan_found", { lot });
          form.requestSubmit();
        },
        onOther() { status.textContent = say("scan_not_label"); },
      });
    } catch (error) {
      close();
      status.textContent = say("scan_no_camera");
      panel.hidden = false;
      document.getElementById("find-video").hidden = true;
      field.focus();
    }
  });
}
