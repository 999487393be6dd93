// Passkeys: turn the server's JSON options into WebAuthn calls and the answers back into
// JSON (base64url for every binary field), as py_webauthn expects them.
(function () {
  "use strict";

  function toBytes(text) {
    const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const raw = atob(b64 + "===".slice((b64.length + 3) % 4));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  }

  function toText(buffer) {
    let raw = "";
    new Uint8Array(buffer).forEach((b) => { raw += String.fromCharCode(b); });
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map((d) => Object.assign({}, d, { id: toBytes(d.id) }));
  }

  function credentialJSON(credential) {
    const r = credential.response;
    const response = { clientDataJSON: toText(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toText(r.attestationObject);
      response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      response.authenticatorData = toText(r.authenticatorData);
      response.signature = toText(r.signature);
      if (r.userHandle) { response.userHandle = toText(r.userHandle); }
    }
    return {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      response: response,
      clientExtensionResults: credential.getClientExtensionResults(),
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
    };
  }

  async function post(url, csrf, body) {
    const answer = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body || {}),
      credentials: "same-origin",
    });
    const data = await answer.json().catch(() => ({}));
    if (!answer.ok) { throw new Error(data.error || "refused"); }
    return data;
  }

  function report(button, message) {
    const target = document.getElementById(button.dataset.status);
    if (target) { target.textContent = message; }
  }

  async function addPasskey(button) {
    const options = await post("/account/passkeys/options", button.dataset.csrf);
    options.challenge = toBytes(options.challenge);
    options.user.id = toBytes(options.user.id);
    options.excludeCredentials = descriptors(options.excludeCredentials);
    const credential = await navigator.credentials.create({ publicKey: options });
    await post("/account/passkeys", button.dataset.csrf, credentialJSON(credential));
    window.location.assign("/account?passkey=added#passkeys");
  }

  async function signIn(button) {
    const options = await post("/login/passkey/options", button.dataset.csrf);
    options.challenge = toBytes(options.challenge);
    options.allowCredentials = descriptors(options.allowCredentials);
    const credential = await navigator.credentials.get({ publicKey: options });
    const done = await post("/login/passkey?next=" + encodeURIComponent(button.dataset.next || "/"),
      button.dataset.csrf, credentialJSON(credential));
    window.location.assign(done.next);
  }

  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-passkey]");
    if (!button) { return; }
    const action = button.dataset.passkey === "add" ? addPasskey : signIn;
    action(button).catch((error) => report(button, "Passkey: " + error.message));
  });
})();
