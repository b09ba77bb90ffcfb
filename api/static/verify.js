// Tizbek scan page: checks the lot's record in the browser, with no trust in this page's server
// beyond the log key it shows. SHA-256 and Ed25519 come from WebCrypto.
//
// Full record (a token or share link): every entry's bytes hash to a leaf whose inclusion proof
// leads to the root of the signed checkpoint, and every event's signature verifies with the key
// the record binds to its signer. Public status: the latest entry's leaf is in the signed log.
"use strict";

const enc = new TextEncoder();

function hexToBytes(hex) {
  if (!/^([0-9a-f]{2})*$/.test(hex)) throw new Error("bad hex");
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(2 * i, 2), 16);
  return out;
}

function b64ToBytes(text) {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

function equal(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

const leafHash = (data) => sha256(concat(Uint8Array.of(0), data));
const nodeHash = (left, right) => sha256(concat(Uint8Array.of(1), left, right));

// RFC 9162 section 2.1.3.2, with arithmetic that stays exact beyond 32 bits.
async function rootFromInclusion(index, size, leaf, proof) {
  if (index >= size) return null;
  let fn = index, sn = size - 1, r = leaf;
  for (const p of proof) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}

async function importKey(raw) {
  return crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]);
}

async function ed25519(raw, sig, message) {
  return crypto.subtle.verify({ name: "Ed25519" }, await importKey(raw), sig, message);
}

class Failure extends Error {
  constructor(key, values) { super(key); this.key = key; this.values = values || {}; }
}

// A C2SP verifier key: name+hash+base64(0x01 || 32-byte Ed25519 key). The name holds no "+",
// the hash is 8 hex digits, and the base64 may hold "+" of its own.
function parseVerifierKey(text) {
  const first = text.indexOf("+");
  const name = text.slice(0, first);
  const hash = text.slice(first + 1, first + 9);
  if (first < 1 || text[first + 9] !== "+") throw new Failure("fail.checkpoint_form");
  const raw = b64ToBytes(text.slice(first + 10));
  if (raw.length !== 33 || raw[0] !== 1) throw new Failure("fail.checkpoint_form");
  return { name, hash: hexToBytes(hash), key: raw.slice(1) };
}

// The checkpoint's size and root, once its signature by the log key verifies.
async function openCheckpoint(note, logKey) {
  const split = note.indexOf("\n\n");
  if (split < 0) throw new Failure("fail.checkpoint_form");
  const body = note.slice(0, split + 1);
  const lines = body.split("\n");
  const size = Number(lines[1]);
  if (!Number.isSafeInteger(size)) throw new Failure("fail.checkpoint_form");
  const root = b64ToBytes(lines[2]);
  const verifier = parseVerifierKey(logKey);
  for (const line of note.slice(split + 2).split("\n")) {
    const match = /^\u2014 (\S+) (\S+)$/.exec(line);
    if (!match || match[1] !== verifier.name) continue;
    const blob = b64ToBytes(match[2]);
    if (!equal(blob.slice(0, 4), verifier.hash)) continue;
    if (await ed25519(verifier.key, blob.slice(4), enc.encode(body))) return { size, root };
  }
  throw new Failure("fail.checkpoint");
}

// Leaf data is {"event":JCS(event),"logged_at":..,"prev":..,"seq":..,"sig":..,"v":1}:
// the signed event bytes are the text between the first key and the fixed tail.
const TAIL = /,"logged_at":"[^"]*","prev":"[0-9a-f]{64}","seq":(\d+),"sig":"([A-Za-z0-9+/=]+)","v":1\}$/;

function splitLeaf(seq, leaf) {
  const match = TAIL.exec(leaf);
  if (!leaf.startsWith('{"event":') || !match || Number(match[1]) !== seq) {
    throw new Failure("fail.form", { seq });
  }
  const eventText = leaf.slice(9, match.index);
  return { eventText, event: JSON.parse(eventText), sig: b64ToBytes(match[2]) };
}

async function keyId(raw) {
  return Array.from(await sha256(raw), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function verifyBundle(bundle, history, logKey) {
  const { size, root } = await openCheckpoint(bundle.checkpoint, logKey);
  const keys = new Map();
  const seen = new Set();
  for (const item of bundle.entries) {
    const data = enc.encode(item.leaf);
    const leaf = await leafHash(data);
    const got = await rootFromInclusion(item.seq, size, leaf, item.proof.map(hexToBytes));
    if (got === null || !equal(got, root)) throw new Failure("fail.inclusion", { seq: item.seq });
    const { eventText, event, sig } = splitLeaf(item.seq, item.leaf);
    const bound = [];
    if (item.seq === 0) for (const k of event.authority.keys) bound.push(k.public_key);
    if (event.type === "key.bound") bound.push(event.public_key);
    for (const b64 of bound) keys.set(await keyId(b64ToBytes(b64)), b64ToBytes(b64));
    const signer = keys.get(event.key);
    if (!signer) throw new Failure("fail.key", { seq: item.seq });
    if (!(await ed25519(signer, sig, enc.encode(eventText)))) {
      throw new Failure("fail.signature", { seq: item.seq });
    }
    seen.add(item.seq);
  }
  // Entries from the checkpoint's size on await the next checkpoint (a log with a
  // checkpoint interval): the page counts them apart, and they are checked once covered.
  const covered = history.filter((seq) => seq < size);
  for (const seq of covered) if (!seen.has(seq)) throw new Failure("fail.inclusion", { seq });
  return { count: covered.length, size };
}

async function verifyHead(record) {
  const { size, root } = await openCheckpoint(record.checkpoint, record.log_key);
  const head = record.head;
  const got = await rootFromInclusion(
    head.seq, size, hexToBytes(head.leaf_hash), head.proof.map(hexToBytes));
  if (got === null || !equal(got, root)) throw new Failure("fail.inclusion", { seq: head.seq });
  return { size };
}

function say(messages, key, values) {
  return messages[key].replace(/\{(\w+)\}/g, (_, name) => String(values[name]));
}

async function run() {
  const record = JSON.parse(document.getElementById("record").textContent);
  const messages = JSON.parse(document.getElementById("messages").textContent);
  const badge = document.getElementById("badge");
  const show = (state, text) => {
    badge.dataset.state = state;
    badge.querySelector(".badge-text").textContent = text;
  };
  if (!record.registered) { badge.hidden = true; return; }
  try {
    if (record.full) {
      const { count, size } = await verifyBundle(record.bundle, record.history, record.log_key);
      show("verified", say(messages, "badge.verified", { count, size }));
    } else {
      const { size } = await verifyHead(record);
      show("verified", say(messages, "badge.verified_head", { size }));
    }
  } catch (error) {
    if (error && error.name === "NotSupportedError") {
      show("unsupported", messages["badge.unsupported"]);
      return;
    }
    const reason = error instanceof Failure
      ? say(messages, error.key, error.values)
      : say(messages, "fail.form", { seq: "?" });
    show("failed", say(messages, "badge.failed", { reason }));
    badge.dataset.failure = error instanceof Failure ? error.key : "fail.form";
    const seq = error instanceof Failure ? error.values.seq : undefined;
    const step = seq === undefined ? null : document.querySelector(`li[data-seq="${seq}"]`);
    if (step) step.classList.add("failed");
  }
}

run();
