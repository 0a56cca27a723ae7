// Passkey buttons: <button data-passkey="create|get" data-begin data-finish
// data-csrf data-status data-error data-unsupported>. Options come from the
// server as JSON with base64url binary fields; responses go back the same.
(() => {
  'use strict';
  const dec = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4)), (c) => c.charCodeAt(0)).buffer;
  const enc = (b) => btoa(String.fromCharCode(...new Uint8Array(b))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const post = async (url, csrf, body) => {
    const r = await fetch(url, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify(body || {}),
    });
    const j = await r.json().catch(() => ({}));
    if (!r.ok) throw { server: j.message };
    return j;
  };
  for (const btn of document.querySelectorAll('button[data-passkey]')) {
    const out = document.getElementById(btn.dataset.status);
    if (!window.PublicKeyCredential) { out.textContent = btn.dataset.unsupported; btn.disabled = true; continue; }
    btn.addEventListener('click', async () => {
      btn.disabled = true; out.textContent = '';
      try {
        const pk = (await post(btn.dataset.begin, btn.dataset.csrf)).publicKey;
        pk.challenge = dec(pk.challenge);
        for (const c of pk.excludeCredentials || []) c.id = dec(c.id);
        for (const c of pk.allowCredentials || []) c.id = dec(c.id);
        let cred;
        if (btn.dataset.passkey === 'create') {
          pk.user.id = dec(pk.user.id);
          cred = await navigator.credentials.create({ publicKey: pk });
        } else {
          cred = await navigator.credentials.get({ publicKey: pk });
        }
        const r = cred.response;
        const res = { clientDataJSON: enc(r.clientDataJSON) };
        if (r.attestationObject) {
          res.attestationObject = enc(r.attestationObject);
          res.transports = r.getTransports ? r.getTransports() : [];
        } else {
          res.authenticatorData = enc(r.authenticatorData);
          res.signature = enc(r.signature);
          if (r.userHandle) res.userHandle = enc(r.userHandle);
        }
        const done = await post(btn.dataset.finish, btn.dataset.csrf, {
          id: cred.id, rawId: enc(cred.rawId), type: cred.type, response: res,
          authenticatorAttachment: cred.authenticatorAttachment || undefined,
          clientExtensionResults: cred.getClientExtensionResults(),
        });
        location.assign(done.redirect);
      } catch (e) {
        out.textContent = (e && e.server) || btn.dataset.error;
        btn.disabled = false;
      }
    });
    btn.dataset.ready = ''; // bound: browser tests wait for it before pressing
  }
})();
