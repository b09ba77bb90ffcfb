// Tizbek web app: lot ids as docs/protocol.md §11.6 defines them, read from what people type and
// from label URLs ({base}/l/{lot}, or a GS1 Digital Link {base}/8004/{prefix}{lot}).
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXY";

/** The canonical form of a typed lot id, or null if it is not one (or its check fails). */
export function normaliseLot(text) {
  const plain = String(text || "").toUpperCase().replace(/[\s-]/g, "")
    .replace(/O/g, "0").replace(/[IL]/g, "1");
  if (!/^[0-9A-HJKMNP-TV-Y]{9}$/.test(plain)) return null;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += (i < 8 ? 9 - i : 1) * ALPHABET.indexOf(plain[i]);
  return sum % 31 === 0 ? plain : null;
}

/** The lot id a scanned QR code carries, or null. */
export function lotFromCode(data) {
  let url;
  try {
    url = new URL(data);
  } catch (_) {
    return normaliseLot(data);
  }
  const path = url.pathname.replace(/\/+$/, "");
  let match = /\/l\/([^/]+)$/.exec(path);
  if (match) return normaliseLot(decodeURIComponent(match[1]));
  match = /\/8004\/([^/]+)$/.exec(path);
  if (match) {
    const giai = decodeURIComponent(match[1]);
    return giai.length > 9 ? normaliseLot(giai.slice(-9)) : null;
  }
  return null;
}
