// keyward console: dialogs, copy, and small conveniences. The pages work without it except
// for opening dialogs; nothing here decides what a visitor may do.
"use strict";

(function () {
  // Dialogs open as modals: the rest of the page is inert, Escape closes them.
  function open(dialog) {
    if (!dialog || dialog.open) return;
    dialog.showModal();
    const first = dialog.querySelector("[autofocus], input:not([type=hidden]), select, button, a[href]");
    if (first) first.focus();
  }

  // Keep Tab inside an open dialog: from the last control back to the first and the other way.
  function trapFocus(event) {
    if (event.key !== "Tab") return;
    const dialog = event.currentTarget;
    const focusable = Array.from(dialog.querySelectorAll(
      "a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea, [tabindex]:not([tabindex='-1'])"
    )).filter((el) => el.offsetParent !== null);
    if (focusable.length === 0) return;
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (event.shiftKey && document.activeElement === first) {
      last.focus();
      event.preventDefault();
    } else if (!event.shiftKey && document.activeElement === last) {
      first.focus();
      event.preventDefault();
    }
  }

  document.addEventListener("click", (event) => {
    const opener = event.target.closest("[data-open]");
    if (opener) {
      open(document.getElementById(opener.dataset.open));
      return;
    }
    const closer = event.target.closest("[data-close]");
    if (closer) {
      const dialog = closer.closest("dialog");
      if (dialog) dialog.close();
      return;
    }
    const copy = event.target.closest("[data-copy]");
    if (copy) {
      const source = document.getElementById(copy.dataset.copy);
      if (!source || !navigator.clipboard) return;
      navigator.clipboard.writeText(source.textContent.trim()).then(() => {
        copy.textContent = "Copied";
        const note = copy.closest("dialog").querySelector("[data-copied]");
        if (note) note.hidden = false;
      });
    }
  });

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("dialog").forEach((dialog) => {
      dialog.addEventListener("keydown", trapFocus);
      // Leaving the secret's dialog forgets the secret: it is in this page only once.
      if (dialog.id === "secret-dialog") {
        dialog.addEventListener("close", () => {
          const secret = document.getElementById("new-secret");
          if (secret) secret.textContent = "";
          window.location.assign("/platform/api-keys");
        });
      }
    });
    // A page that answers a form post (a new secret, or a form with an error) becomes a
    // plain page in the history: reloading it loads the list, and never posts the form again.
    if (document.querySelector("[data-forget-post], [data-open-on-load]")) {
      window.history.replaceState(null, "", window.location.pathname.startsWith("/platform/api-keys") ? "/platform/api-keys" : window.location.href);
    }
    document.querySelectorAll("dialog[data-open-on-load]").forEach(open);

    // Full access or Custom: the scope checkboxes show only for Custom.
    document.querySelectorAll("[data-access]").forEach((fieldset) => {
      const scopes = fieldset.querySelector("[data-scopes]");
      const sync = () => {
        const custom = fieldset.querySelector("[data-access-custom]").checked;
        scopes.hidden = !custom;
      };
      fieldset.addEventListener("change", sync);
      sync();
    });

    // The workspace switcher and the status filter apply as soon as they change.
    document.querySelectorAll("form[data-autosubmit] select").forEach((select) => {
      select.addEventListener("change", () => select.form.submit());
    });
    document.querySelectorAll("[data-noscript-only]").forEach((el) => { el.hidden = true; });
  });
})();
