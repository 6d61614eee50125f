// Limes border desk: small progressive enhancements. Every page works without this file.
"use strict";

// The referral queue stays live: its rows are fetched again every few seconds. The poll is
// marked so that it does not keep an unattended session alive.
function liveQueue() {
  const table = document.getElementById("queue");
  if (!table) return;
  const body = document.getElementById("queue-rows");
  const status = document.getElementById("queue-status");
  const every = Math.max(2, parseInt(table.dataset.refresh, 10) || 5) * 1000;
  async function refresh() {
    try {
      const response = await fetch(table.dataset.rows, {headers: {"X-Limes-Poll": "1"}, credentials: "same-origin"});
      if (response.status === 401) { window.location.reload(); return; }
      if (!response.ok) throw new Error(response.status);
      const html = await response.text();
      if (body.dataset.last !== html) { body.innerHTML = html; body.dataset.last = html; }
      status.textContent = "Updated " + new Date().toLocaleTimeString() + ".";
    } catch (error) {
      status.textContent = "Could not update (" + error.message + "); retrying.";
    }
  }
  setInterval(refresh, every);
}

// A refusal needs its ground: ask for it before sending, not after.
function decisionForm() {
  const form = document.getElementById("decision-form");
  if (!form) return;
  form.addEventListener("submit", (event) => {
    const choice = event.submitter ? event.submitter.value : "";
    const ground = document.getElementById("ground");
    const note = document.getElementById("note");
    ground.setCustomValidity(choice === "refuse" && !ground.value ? "Choose the ground for refusal." : "");
    note.setCustomValidity(choice === "escalate" && !note.value.trim() ? "Say why you escalate." : "");
    if (!form.checkValidity()) { event.preventDefault(); form.reportValidity(); }
  });
  // Admitting past a failed or undone check asks first: the confirm step opens with its button focused,
  // Enter admits, Escape or "Go back" returns to the Admit button.
  const confirm = document.getElementById("admit-confirm");
  const admit = document.getElementById("admit");
  if (confirm) {
    form.addEventListener("submit", (event) => {
      if (event.submitter === admit) {
        event.preventDefault();
        confirm.hidden = false;
        document.getElementById("admit-anyway").focus();
      }
    });
    const back = () => { confirm.hidden = true; admit.focus(); };
    document.getElementById("admit-cancel").addEventListener("click", back);
    confirm.addEventListener("keydown", (event) => { if (event.key === "Escape") back(); });
  }
  // Alt+A admit, Alt+R refuse, Alt+E escalate, from anywhere on the page (the note included).
  const keys = {a: "#admit", r: "button.refuse", e: "button.escalate"};
  document.addEventListener("keydown", (event) => {
    const selector = event.altKey && !event.ctrlKey && !event.metaKey && keys[event.key.toLowerCase()];
    const button = selector && form.querySelector(selector);
    if (button) { event.preventDefault(); button.click(); }
  });
  form.addEventListener("input", () => {
    document.getElementById("ground").setCustomValidity("");
    document.getElementById("note").setCustomValidity("");
  });
}

document.addEventListener("DOMContentLoaded", () => { liveQueue(); decisionForm(); });
