// Tizbek web app: a sign-in link of the form /app/signin#token=... (the demo prints them) fills
// the form and signs in. The token stays in the fragment, which browsers never send to a server.
const match = /^#token=([A-Za-z0-9_-]+)$/.exec(location.hash);
if (match) {
  history.replaceState(null, "", location.pathname + location.search);
  document.getElementById("token").value = match[1];
  document.getElementById("signin-form").requestSubmit();
}
