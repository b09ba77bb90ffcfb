// Tizbek web app: the words scripts show, translated on the server into the page's language.
const messages = JSON.parse(document.getElementById("app-messages").textContent);

export function say(key, values = {}) {
  const text = messages[key] || key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}
