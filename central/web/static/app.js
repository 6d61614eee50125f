// Limes border desk: small progressive enhancements. Every page works without this file.
"use strict";

// The referral queue stays live: its rows are fetched again every few seconds. The poll is
// marked so that it does not keep an unattended session alive. A row whose referral and status
// are unchanged stays in place and only its text is refreshed, so a focused row link keeps its
// focus; the live region speaks only when the referrals or their statuses changed.
function liveQueue() {
  const table = document.getElementById("queue");
  if (!table) return;
  const body = document.getElementById("queue-rows");
  const status = document.getElementById("queue-status");
  const every = Math.max(2, parseInt(table.dataset.refresh, 10) || 5) * 1000;
  const keys = () => Array.from(body.rows, (row) => row.dataset.key || "").join("|");
  async function refresh() {
    try {
      const response = await fetch(table.dataset.rows, {headers: {"X-Limes-Poll": "1"}, credentials: "same-origin"});
      if (response.status === 401) { window.location.reload(); return; }
      if (!response.ok) throw new Error(response.status);
      const html = await response.text();
      if (body.dataset.last === html) return;
      body.dataset.last = html;
      const before = keys();
      const focused = body.contains(document.activeElement) ? document.activeElement.getAttribute("href") : null;
      placeRows(body, html);
      if (focused && !body.contains(document.activeElement)) {
        const link = Array.from(body.querySelectorAll("a[href]")).find((a) => a.getAttribute("href") === focused);
        if (link) link.focus();
      }
      if (keys() !== before) {
        const count = body.querySelectorAll("tr[data-key]").length;
        status.textContent = "Queue changed at " + new Date().toLocaleTimeString() + ": " + count + " referral" +
          (count === 1 ? "" : "s") + " shown.";
      }
    } catch (error) {
      status.textContent = "Could not update (" + error.message + "); retrying.";
    }
  }
  setInterval(refresh, every);
}

// The new rows in their order, reusing the rows already shown for the same referral and status.
function placeRows(body, html) {
  const fresh = document.createElement("tbody");
  fresh.innerHTML = html;
  const shown = new Map(Array.from(body.rows, (row) => [row.dataset.key, row]));
  const wanted = Array.from(fresh.rows, (row) => {
    const same = row.dataset.key && shown.get(row.dataset.key);
    if (!same) return row;
    Array.from(row.cells).forEach((cell, index) => refreshCell(same.cells[index], cell));
    return same;
  });
  Array.from(body.rows).filter((row) => !wanted.includes(row)).forEach((row) => row.remove());
  let cursor = body.firstElementChild;
  for (const row of wanted) {
    if (row === cursor) cursor = cursor.nextElementSibling;
    else body.insertBefore(row, cursor);
  }
}

// A cell's new text; the element holding the focus is kept and only its content replaced.
function refreshCell(cell, fresh) {
  if (!cell || cell.innerHTML === fresh.innerHTML) return;
  if (!cell.contains(document.activeElement)) { cell.innerHTML = fresh.innerHTML; return; }
  Array.from(fresh.children).forEach((child, index) => {
    const old = cell.children[index];
    if (old && old.contains(document.activeElement)) old.innerHTML = child.innerHTML;
    else if (old) old.replaceWith(child.cloneNode(true));
  });
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

// The short intelligence report form on the referral page: Alt+I goes to its text, Ctrl+Enter files it.
function intelReportKeys() {
  const text = document.getElementById("intel-text");
  if (!text) return;
  document.addEventListener("keydown", (event) => {
    if (event.altKey && !event.ctrlKey && !event.metaKey && event.key.toLowerCase() === "i") {
      event.preventDefault();
      text.focus();
    }
  });
  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      text.form.requestSubmit();
    }
  });
}

document.addEventListener("DOMContentLoaded", () => { liveQueue(); decisionForm(); intelReportKeys(); });
