// The desk's page kept live: results from /events as they arrive, forms sent without leaving the page,
// Alt+letter shortcuts. Without this script every form still works (a full page load each time).
"use strict";
(function () {
  const t = JSON.parse(document.getElementById("texts").textContent);
  const $ = (id) => document.getElementById(id);
  const say = (text) => { $("announce").textContent = ""; setTimeout(() => { $("announce").textContent = text; }, 50); };
  const error = (text) => { $("error").textContent = text || ""; };
  const el = (tag, text, cls) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; };
  const list = (id, items, empty) => {
    const ul = $(id); ul.replaceChildren();
    if (!items || !items.length) { if (empty) ul.append(el("li", empty)); return; }
    items.forEach((item) => ul.append(el("li", item)));
  };

  async function send(form, submitter) {
    const data = new FormData(form);
    if (submitter && submitter.name) data.set(submitter.name, submitter.value);
    const response = await fetch(form.action, { method: "POST", body: new URLSearchParams(data),
      headers: { Accept: "application/json" }, credentials: "same-origin" });
    let body = {};
    try { body = await response.json(); } catch (e) { body = { error: response.statusText }; }
    if (!response.ok) { error(body.error || response.statusText); say(body.error || ""); return null; }
    error("");
    return body;
  }

  function setConnection(online) {
    const banner = $("connection");
    banner.className = "banner " + (online ? "online" : "offline");
    banner.textContent = online ? t.online : t.offline;
  }

  function clear() {
    ["checks", "attention", "not-checked", "document"].forEach((id) => $(id).replaceChildren());
    list("history", [], t.no_history);
    ["all-shown", "manual-badge", "no-chip", "refusal-link"].forEach((id) => { $(id).hidden = true; });
    $("decided").textContent = ""; $("finger-prompt").textContent = ""; $("traveller-prompt").textContent = "";
  }

  // The gate's words (edge.gate.STAY_POST_ONLY) when the post judged the stay without headquarters.
  const STAY_POST_ONLY = "stay checked on this post's records only: headquarters did not answer";

  function addChecks(step, checks) {
    checks.forEach((check) => {
      const row = el("tr"); row.dataset.step = step; row.dataset.check = check.name;
      row.append(el("th", check.name)); row.firstChild.scope = "row";
      row.append(el("td", t[check.status] || check.status, check.status));
      const reason = check.reason || "";
      row.append(el("td", reason.startsWith(STAY_POST_ONLY) ? t.stay_post_only + reason.slice(STAY_POST_ONLY.length)
        : reason));
      $("checks").append(row);
    });
  }

  function showDocument(doc) {
    const dl = $("document"); dl.replaceChildren();
    [["surname", doc.surname], ["given_names", doc.given_names], ["document_number", doc.document_number],
     ["document_type", doc.document_type], ["issuing_state", doc.issuing_state], ["nationality", doc.nationality],
     ["birth_date", doc.birth_date], ["expiry_date", doc.expiry_date], ["sex", doc.sex]].forEach(([k, v]) => {
      dl.append(el("dt", k.replace("_", " "))); dl.append(el("dd", v || "—"));
    });
  }

  const handlers = {
    status: (e) => { setConnection(e.online); },
    started: (e) => { clear(); $("manual-badge").hidden = !e.manual_entry; $("waiting").textContent = "…"; },
    step: (e) => { addChecks(e.step, e.checks); },
    document: (e) => { showDocument(e); },
    page_image: (e) => { $("page-image").src = e.src; $("page-figure").hidden = false; },
    history: (e) => {
      list("history", e.crossings === null ? [t.not_checked] :
        (e.crossings || []).map((c) => `${c.occurred_at} ${c.border_point} ${c.direction} ${c.decision}`), t.no_history);
    },
    complete: (e) => {
      list("attention", e.attention, "—"); list("not-checked", e.not_checked, "—");
      $("no-chip").hidden = !e.no_chip; $("all-shown").hidden = false; $("waiting").textContent = "";
      setConnection(!e.offline);
      say(t.all_shown + (e.attention.length ? ": " + e.attention.length + " " + t.attention : ""));
      $("h-decision").focus();
    },
    capture_again: (e) => {
      // The face steps' rows go: their new results arrive as steps, then "complete" once more.
      const gone = new Set(e.replaces);
      Array.from($("checks").children).forEach((row) => { if (gone.has(row.dataset.check)) row.remove(); });
      $("all-shown").hidden = true; $("waiting").textContent = `${t.capturing_again} (${e.capture})…`;
      say(t.capturing_again);
    },
    traveller_prompt: (e) => { $("traveller-prompt").textContent = e.text; },
    finger_prompt: (e) => { $("finger-prompt").textContent = e.text; say(e.text); },
    fingers_enrolled: (e) => {
      const text = e.file_id ? `${t.fingers_enrolled} ${e.file_id}: ${e.positions.join(", ")}` +
        (e.accepted ? "" : ` (${t.fingers_below})`) : `${t.fingers_not_enrolled}: ${e.reason}`;
      $("finger-prompt").textContent = text; say(text);
    },
    decided: (e) => {
      const text = `${t.decided}: ${t[e.decision] || e.decision}${e.ground ? " (" + e.ground + ")" : ""} — ${e.officer}` +
        (e.state === "pending" ? ". " + t.kept_offline : "");
      $("decided").textContent = text; say(text);
      if (e.decision === "refuse") {
        const link = $("refusal-link"); link.href = `/refusal/${e.id}.pdf`; link.hidden = false; link.focus();
      } else { $("next").focus(); }
    },
  };

  if (document.body.dataset.signedIn !== "yes") return;
  const source = new EventSource("/events");
  Object.keys(handlers).forEach((type) => source.addEventListener(type, (m) => handlers[type](JSON.parse(m.data))));
  source.onerror = () => { /* the browser reconnects by itself */ };

  $("manual-form").addEventListener("submit", async (event) => {
    event.preventDefault(); await send(event.target, event.submitter);
  });
  $("decide-form").addEventListener("submit", async (event) => {
    event.preventDefault(); await send(event.target, event.submitter);
  });
  $("report-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const filed = await send(event.target, event.submitter);
    if (!filed) return;
    const text = filed.state === "pending" ? t.report_kept : t.report_filed;
    $("report-filed").textContent = text; say(text); $("report-text").value = "";
  });
  $("capture-again-form").addEventListener("submit", async (event) => {
    event.preventDefault(); await send(event.target, event.submitter);
  });
  $("fingers-form").addEventListener("submit", async (event) => {
    event.preventDefault(); await send(event.target, event.submitter);
  });
  $("next").addEventListener("click", () => { clear(); $("mrz").value = ""; $("mrz").focus(); $("waiting").textContent = t.waiting; });

  async function loadCases() {
    const response = await fetch("/counter-cases", { headers: { Accept: "application/json" } });
    const body = await response.json();
    const ul = $("counter-cases"); ul.replaceChildren();
    if (!response.ok) { ul.append(el("li", body.error)); return; }
    body.cases.forEach((c) => {
      const li = el("li", `${c.occurred_at} ${c.station}: ${c.reasons.join("; ")} `);
      const form = el("form"); form.method = "post"; form.action = "/take";
      form.innerHTML = `<input type="hidden" name="csrf"><input type="hidden" name="case_id">`;
      form.elements.csrf.value = document.body.dataset.csrf; form.elements.case_id.value = c.case_id;
      const button = el("button", t.take); button.type = "submit"; form.append(button);
      form.addEventListener("submit", async (event) => { event.preventDefault(); if (await send(form)) $("mrz").focus(); });
      li.append(form); ul.append(li);
    });
  }
  loadCases();
  setInterval(loadCases, 15000);

  const shortcuts = { a: "admit", r: "refuse", s: "refer", m: "mrz", n: "next", i: "report-text",
                      c: "capture-again" };
  document.addEventListener("keydown", (event) => {
    if (!event.altKey || event.ctrlKey || event.metaKey) return;
    const target = shortcuts[event.key.toLowerCase()];
    if (!target) return;
    event.preventDefault();
    if (target === "mrz" || target === "report-text") { $(target).focus(); return; }
    $(target).click();
  });
})();
