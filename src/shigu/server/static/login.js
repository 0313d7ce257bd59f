document.getElementById("login").addEventListener("submit", async (e) => {
  e.preventDefault();
  const body = {username: e.target.username.value, password: e.target.password.value};
  const r = await fetch("/api/auth/login", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
  if (r.ok) { location.href = "/"; return; }
  const data = await r.json().catch(() => ({}));
  document.getElementById("error").textContent = data.detail || ("sign-in failed: " + r.status);
});
