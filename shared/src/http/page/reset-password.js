// The reset-password page, upgraded: the server renders it so that it works
// without JavaScript (plain form posts); with JavaScript the same forms are
// sent with fetch, with live hints and a show-password toggle. The key is read
// once, kept in memory, removed from the address bar, and sent only to
// validate-code and set-password.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(window.location.search);
  const key = $("key").value || params.get("confirmation") || "";
  // Drop the key from the address bar and history before anything else happens.
  window.history.replaceState(null, "", window.location.pathname);

  // /t/{tenant}/recovery/reset-password -> API under /t/{tenant}/api/...
  const m = window.location.pathname.match(/^(.*?\/t\/[^/]+)\/recovery\//);
  const apiBase = (m ? m[1] : "") + "/api/identity/recovery/v0.9";
  let policy = { minLength: 8, maxLength: 64 };

  function show(id) {
    for (const s of ["reset", "done", "invalid"]) $(s).hidden = s !== id;
    $("title").textContent = id === "done" ? "Password changed" : id === "invalid" ? "Link not valid" : "Choose a new password";
    $("title").focus();
  }

  function hints() {
    const len = [...$("password").value].length;
    const list = $("hints");
    list.replaceChildren();
    const rules = [
      [len >= policy.minLength, `At least ${policy.minLength} characters (${len} so far)`],
      [len <= policy.maxLength, `At most ${policy.maxLength} characters`],
    ];
    if ($("confirm").value) rules.push([$("confirm").value === $("password").value, "Both fields match"]);
    for (const [met, text] of rules) {
      const li = document.createElement("li");
      li.textContent = text;
      li.className = met ? "met" : "unmet";
      list.append(li);
    }
  }

  async function loadPolicy() {
    try {
      const r = await fetch(apiBase + "/password-policy", { credentials: "omit", referrerPolicy: "no-referrer" });
      if (!r.ok) return;
      policy = await r.json();
      const items = policy.policyList || [];
      $("guidelines").replaceChildren(...items.map((t) => Object.assign(document.createElement("li"), { textContent: t })));
      $("guidelines-box").hidden = items.length === 0;
    } catch (_) { /* The server still checks every rule. */ }
    hints();
  }

  // A link that no longer works is said so before anyone types a password.
  async function validate() {
    const r = await fetch(apiBase + "/validate-code", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ code: key, step: "UPDATE_PASSWORD", properties: [] }),
      credentials: "omit",
      referrerPolicy: "no-referrer",
    }).catch(() => null);
    if (!r || r.status === 202) return;
    const body = await r.json().catch(() => ({}));
    if (body.code === "18001" || body.code === "18002") {
      $("invalid-message").textContent = body.code === "18002"
        ? "This link has expired." : "This link is not valid any more.";
      show("invalid");
    }
  }

  async function submit(event) {
    event.preventDefault();
    const error = $("form-error");
    error.hidden = true;
    const password = $("password").value;
    if (password !== $("confirm").value) {
      error.textContent = "The two passwords are not the same.";
      error.hidden = false;
      $("confirm").focus();
      return;
    }
    $("submit").disabled = true;
    try {
      const r = await fetch(apiBase + "/set-password", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ key, password, properties: [] }),
        credentials: "omit",
        referrerPolicy: "no-referrer",
      });
      if (r.ok) {
        $("password").value = $("confirm").value = "";
        show("done");
        return;
      }
      const body = await r.json().catch(() => ({}));
      if (body.code === "18001" || body.code === "18002") {
        $("invalid-message").textContent = body.code === "18002"
          ? "This link has expired." : "This link is not valid any more.";
        show("invalid");
        return;
      }
      error.textContent = body.description || "The password could not be set. Try again.";
      error.hidden = false;
      $("password").focus();
    } catch (_) {
      error.textContent = "The server could not be reached. Try again.";
      error.hidden = false;
    } finally {
      $("submit").disabled = false;
    }
  }

  async function again(event) {
    event.preventDefault();
    const username = $("username").value.trim();
    $("again-error").hidden = true;
    if (!username) {
      $("again-error").textContent = "Enter your username.";
      $("again-error").hidden = false;
      $("username").focus();
      return;
    }
    const callback = window.location.origin + window.location.pathname;
    const r = await fetch(apiBase + "/recover-password?type=email&notify=true", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ user: { username }, properties: [{ key: "callback", value: callback }] }),
      credentials: "omit",
      referrerPolicy: "no-referrer",
    }).catch(() => null);
    if (r && r.status === 202) {
      $("again-form").hidden = true;
      $("again-sent").hidden = false;
      $("again-sent").focus();
    } else {
      const body = r ? await r.json().catch(() => ({})) : {};
      $("again-error").textContent = body.description || "The request could not be sent. Try again.";
      $("again-error").hidden = false;
    }
  }

  $("toggle").hidden = false;
  $("toggle").addEventListener("click", () => {
    const showing = $("toggle").getAttribute("aria-pressed") === "true";
    for (const id of ["password", "confirm"]) $(id).type = showing ? "password" : "text";
    $("toggle").setAttribute("aria-pressed", String(!showing));
    $("toggle").textContent = showing ? "Show" : "Hide";
  });
  $("password").addEventListener("input", hints);
  $("confirm").addEventListener("input", hints);
  $("reset-form").addEventListener("submit", submit);
  $("again-form").addEventListener("submit", again);

  // The server chose what the page shows; with a key, the form is live.
  if (!$("reset").hidden) {
    if (key) {
      loadPolicy();
      validate();
    } else {
      $("invalid-message").textContent = "This page needs the link from your reset mail.";
      show("invalid");
    }
  }
})();
