// Parents' portal: passkeys (WebAuthn), the live "today" view (server-sent
// events) and the new-person fields. Everything works without it except
// passkeys and live updates.
"use strict";
(function () {
  const b64 = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const unb64 = (s) => { s = s.replace(/-/g, "+").replace(/_/g, "/"); while (s.length % 4) s += "="; return Uint8Array.from(atob(s), (c) => c.charCodeAt(0)).buffer; };
  const csrf = () => (document.querySelector("meta[name=csrf-token]") || {}).content || "";
  const post = (url, body) => fetch(url, { method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() }, body: body ? JSON.stringify(body) : "{}" });
  const show = (id) => { const e = document.getElementById(id); if (e) e.hidden = false; };
  const credJSON = (c) => {
    const r = c.response, o = { id: c.id, rawId: b64(c.rawId), type: c.type, response: { clientDataJSON: b64(r.clientDataJSON) } };
    if (r.attestationObject) { o.response.attestationObject = b64(r.attestationObject); if (r.getTransports) o.response.transports = r.getTransports(); }
    if (r.authenticatorData) { o.response.authenticatorData = b64(r.authenticatorData); o.response.signature = b64(r.signature); if (r.userHandle) o.response.userHandle = b64(r.userHandle); }
    return o;
  };
  async function register() {
    try {
      const res = await post("/api/v1/parent/passkeys/register/begin");
      if (!res.ok) throw new Error("begin " + res.status);
      const opts = (await res.json()).publicKey;
      opts.challenge = unb64(opts.challenge);
      opts.user.id = unb64(opts.user.id);
      (opts.excludeCredentials || []).forEach((c) => { c.id = unb64(c.id); });
      const cred = await navigator.credentials.create({ publicKey: opts });
      const fin = await post("/api/v1/parent/passkeys/register/finish", credJSON(cred));
      if (!fin.ok) throw new Error("finish " + fin.status);
      show("passkey-done");
      document.body.dataset.passkey = "registered";
    } catch (e) { show("passkey-error"); document.body.dataset.passkey = "error: " + e; }
  }
  async function login() {
    try {
      const res = await post("/api/v1/parent/passkeys/login/begin");
      if (!res.ok) throw new Error("begin " + res.status);
      const opts = (await res.json()).publicKey;
      opts.challenge = unb64(opts.challenge);
      (opts.allowCredentials || []).forEach((c) => { c.id = unb64(c.id); });
      const cred = await navigator.credentials.get({ publicKey: opts });
      const fin = await post("/api/v1/parent/passkeys/login/finish", credJSON(cred));
      if (!fin.ok) throw new Error("finish " + fin.status);
      location.href = (await fin.json()).next || "/ouders/";
    } catch (e) { show("passkey-error"); document.body.dataset.passkey = "error: " + e; }
  }
  function live(list) {
    const t = list.dataset, state = document.getElementById("live-state");
    const es = new EventSource(t.stream);
    es.addEventListener("today", (ev) => {
      document.body.classList.add("live");
      const data = JSON.parse(ev.data);
      data.children.forEach((c) => {
        const li = list.querySelector('[data-child="' + CSS.escape(c.location_id + "/" + c.id) + '"]');
        if (!li) return;
        li.classList.toggle("present", c.present);
        const p = li.querySelector(".state");
        p.textContent = "";
        const strong = document.createElement("strong");
        strong.textContent = c.present ? t.tIn : t.tOut;
        p.appendChild(strong);
        p.appendChild(document.createTextNode(c.since ? " " + t.tSince + " " + c.since + (c.by ? " · " + t.tBy + " " + c.by : "") : " · " + t.tNone));
      });
      list.dataset.updated = String(Date.now());
    });
    es.onerror = () => { document.body.classList.remove("live"); };
  }
  document.addEventListener("DOMContentLoaded", () => {
    const r = document.getElementById("passkey-register"); if (r) r.addEventListener("click", register);
    const l = document.getElementById("passkey-login"); if (l) l.addEventListener("click", login);
    const list = document.getElementById("today"); if (list && window.EventSource) live(list);
    const sel = document.getElementById("person"), np = document.querySelector(".newperson");
    if (sel && np) { const f = () => { np.hidden = sel.value !== "new"; }; sel.addEventListener("change", f); f(); }
  });
})();
