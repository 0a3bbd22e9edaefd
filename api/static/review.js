// An artwork page's accept/reject buttons: each POSTs the curator's verdict on one prediction to
// /review with the curator token as a Bearer token. The name and the token are kept in
// sessionStorage: they last as long as the tab, and no other site or tab reads them.
(function () {
  "use strict";
  const NAME = "heritage-kg.curator", TOKEN = "heritage-kg.token";
  const nameInput = document.getElementById("curator-name");
  const tokenInput = document.getElementById("curator-token");
  if (!nameInput || !tokenInput) return;
  nameInput.value = sessionStorage.getItem(NAME) || "";
  tokenInput.value = sessionStorage.getItem(TOKEN) || "";

  function remember() {
    sessionStorage.setItem(NAME, nameInput.value.trim());
    sessionStorage.setItem(TOKEN, tokenInput.value.trim());
  }
  nameInput.addEventListener("change", remember);
  tokenInput.addEventListener("change", remember);

  function reason(status, body) {
    const detail = body && body.detail;
    if (Array.isArray(detail)) return detail.map(d => d.msg).join("; ");  // a request the API refused as malformed
    return detail || `the service answered ${status}`;
  }

  async function review(button) {
    const row = button.closest("tr.prediction");
    const status = row.querySelector(".status");
    remember();
    const curator = nameInput.value.trim(), token = tokenInput.value.trim();
    if (!curator || !token) {
      status.textContent = "enter your name and the curator token below first";
      status.classList.add("error");
      return;
    }
    const buttons = row.querySelectorAll("button.verdict");
    buttons.forEach(b => { b.disabled = true; });
    status.textContent = "saving…";
    status.classList.remove("error");
    try {
      const response = await fetch("/review", {
        method: "POST",
        headers: {"Content-Type": "application/json", "Authorization": `Bearer ${token}`},
        body: JSON.stringify({prediction: row.dataset.prediction, verdict: button.dataset.verdict, curator}),
      });
      const body = await response.json().catch(() => null);
      if (response.ok) {
        row.dataset.verdict = body.verdict;
        status.textContent = `${body.verdict} by ${curator} (${body.time.slice(0, 10)})`;
      } else {
        status.textContent = `not saved: ${reason(response.status, body)}`;
        status.classList.add("error");
      }
    } catch (error) {
      status.textContent = `not saved: ${error}`;
      status.classList.add("error");
    } finally {
      buttons.forEach(b => { b.disabled = false; });
    }
  }

  document.querySelectorAll("tr.prediction button.verdict").forEach(button =>
    button.addEventListener("click", () => review(button)));
})();
