// Tizbek web app: read a lot label's QR code with the camera (getUserMedia and the vendored jsQR
// decoder, api/static/vendor/jsqr). Typing the id stays possible whenever there is no camera.
import { lotFromCode } from "/static/app/lots.js";

let decoder = null;

function loadDecoder() {
  if (!decoder) {
    decoder = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = "/static/vendor/jsqr/jsQR.js";
      script.onload = () => resolve(window.jsQR);
      script.onerror = () => reject(new Error("cannot load the QR decoder"));
      document.head.append(script);
    });
  }
  return decoder;
}

/**
 * Scan with the camera into `video` until a label is read; calls onLot(lot) once, onOther(text)
 * for codes that are not Tizbek labels. Returns a function that stops the camera.
 */
export async function scan(video, { onLot, onOther }) {
  const jsQR = await loadDecoder();
  const stream = await navigator.mediaDevices.getUserMedia({
    video: { facingMode: "environment" }, audio: false,
  });
  video.srcObject = stream;
  await video.play();
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  let running = true;
  const stop = () => {
    running = false;
    for (const track of stream.getTracks()) track.stop();
    video.srcObject = null;
  };
  let lastOther = "";
  const tick = () => {
    if (!running) return;
    if (video.readyState >= 2 && video.videoWidth) {
      const scale = Math.min(1, 800 / video.videoWidth);
      canvas.width = Math.round(video.videoWidth * scale);
      canvas.height = Math.round(video.videoHeight * scale);
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      const image = context.getImageData(0, 0, canvas.width, canvas.height);
      const code = jsQR(image.data, image.width, image.height, { inversionAttempts: "attemptBoth" });
      if (code && code.data) {
        const lot = lotFromCode(code.data);
        if (lot) {
          stop();
          onLot(lot);
          return;
        }
        if (code.data !== lastOther) { lastOther = code.data; onOther(code.data); }
      }
    }
    setTimeout(tick, 120);
  };
  tick();
  return stop;
}
