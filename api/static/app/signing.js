// Tizbek web app: events signed in the browser, exactly as docs/protocol.md §2-§3 define them.
//
// An event carries type, log (the log's origin), actor (the organisation), key (the key id: hex
// SHA-256 of the 32-byte raw public key), at (RFC 3339 UTC), nonce (22 URL-safe characters) and
// the type's own fields. The signature is Ed25519 over the RFC 8785 canonical JSON of the event,
// base64 with padding. The key pair is made with extractable=false: the page can sign with the
// private key but never read it.
import canonicalize from "/static/vendor/canonicalize/canonicalize.js";
import * as store from "/static/app/store.js";

const enc = new TextEncoder();

export function base64(bytes) {
  let text = "";
  for (const b of new Uint8Array(bytes)) text += String.fromCharCode(b);
  return btoa(text);
}

export function hex(bytes) {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function sha256Hex(bytes) {
  return hex(await crypto.subtle.digest("SHA-256", bytes));
}

/** The RFC 8785 canonical bytes of a JSON value. */
export function canonicalBytes(value) {
  return enc.encode(canonicalize(value));
}

/** 16 random bytes as URL-safe base64 without padding: 22 characters, as the log asks. */
export function newNonce() {
  const raw = base64(crypto.getRandomValues(new Uint8Array(16)));
  return raw.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Now, as RFC 3339 UTC in whole seconds. */
export function utcNow() {
  return new Date().toISOString().replace(/\.\d+Z$/, "Z");
}

async function describe(record) {
  const raw = await crypto.subtle.exportKey("raw", record.keys.publicKey);
  return { ...record, publicKey: base64(raw), keyId: await sha256Hex(raw) };
}

/** This browser's key for `org`: {keys, keyId, publicKey (base64), created}, or null. */
export async function loadKey(org) {
  const record = await store.get("keys", org);
  return record ? describe(record) : null;
}

/** Make and keep a new key for `org` (the private half non-extractable). */
export async function makeKey(org) {
  const keys = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
  const record = { org, keys, created: utcNow() };
  await store.put("keys", record);
  return describe(record);
}

/** An event of `type` by `actor` with this key, and the type's own `fields`. */
export function buildEvent(type, fields, { log, actor, keyId }) {
  return { ...fields, type, log, actor, key: keyId, at: utcNow(), nonce: newNonce() };
}

/** Sign `event`: {event, sig}, and the exact JSON text to submit. */
export async function signEvent(key, event) {
  const sig = await crypto.subtle.sign({ name: "Ed25519" }, key.keys.privateKey, canonicalBytes(event));
  const submission = { event, sig: base64(sig) };
  return { submission, body: JSON.stringify(submission) };
}

/** Where the page says it signs: the log's origin and the signed-in organisation. */
export function pageSigner() {
  return { log: document.body.dataset.log, actor: document.body.dataset.actor };
}
