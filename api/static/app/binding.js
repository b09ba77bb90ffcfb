// Tizbek web app: whether this browser's key may sign for the signed-in organisation.
import { loadKey } from "/static/app/signing.js";

/** What to tell the user about a keyState() result: [notice class, words]. */
export function describeKey(found, org, say) {
  const seq = found.binding && (found.state === "revoked" ? found.binding.revoked_seq : found.binding.bound_seq);
  const words = {
    none: say("no_key"),
    unsupported: say("unsupported"),
    offline: say("offline"),
    unbound: say("not_bound", { org }),
    "other-org": say("not_bound", { org }),
    revoked: say("revoked", { seq }),
    bound: say("bound", { org, seq }),
  }[found.state];
  const kind = { bound: "good", unbound: "warn", none: "warn", revoked: "bad", unsupported: "bad", "other-org": "bad" }[found.state] || "";
  return [kind, words];
}

/** {state: none|unsupported|bound|unbound|other-org|revoked|offline, key, binding}. */
export async function keyState(org) {
  if (!window.crypto || !crypto.subtle) return { state: "unsupported" };
  let key;
  try {
    key = await loadKey(org);
  } catch (error) {
    return { state: "unsupported", error };
  }
  if (!key) return { state: "none" };
  let response;
  try {
    response = await fetch(`/v1/keys/${key.keyId}`, { headers: { accept: "application/json" }, cache: "no-store" });
  } catch (_) {
    return { state: "offline", key };
  }
  if (response.status === 404) return { state: "unbound", key };
  if (!response.ok) return { state: "offline", key };
  const binding = await response.json();
  if (binding.org !== org) return { state: "other-org", key, binding };
  if (binding.revoked_seq !== null) return { state: "revoked", key, binding };
  return { state: "bound", key, binding };
}
