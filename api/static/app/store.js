// Tizbek web app: this browser's IndexedDB. Two stores: "keys" (one non-extractable Ed25519
// CryptoKeyPair per organisation, kept as a structured clone; the private key never leaves the
// browser) and "outbox" (every submission signed here, with its exact bytes and its fate).
const DB_NAME = "tizbek";
const DB_VERSION = 1;

let opened = null;

export function database() {
  if (!opened) {
    opened = new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = () => {
        const db = request.result;
        if (!db.objectStoreNames.contains("keys")) db.createObjectStore("keys", { keyPath: "org" });
        if (!db.objectStoreNames.contains("outbox")) {
          const outbox = db.createObjectStore("outbox", { keyPath: "id" });
          outbox.createIndex("state", "state");
        }
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }
  return opened;
}

function done(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

export async function get(store, key) {
  const db = await database();
  return done(db.transaction(store).objectStore(store).get(key));
}

export async function put(store, value) {
  const db = await database();
  const tx = db.transaction(store, "readwrite");
  tx.objectStore(store).put(value);
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve(value);
    tx.onerror = () => reject(tx.error);
  });
}

export async function all(store) {
  const db = await database();
  return done(db.transaction(store).objectStore(store).getAll());
}
