// The share box's copy button. Without JavaScript the short link is still
// there, in a read-only field a reader can select; with it, one click copies.
"use strict";
(() => {
  const copyBySelection = (field) => {
    field.focus();
    field.select();
    try {
      return document.execCommand("copy");
    } catch {
      return false;
    }
  };

  for (const box of document.querySelectorAll("[data-share]")) {
    const field = box.querySelector(".share-url");
    const button = box.querySelector(".copy-link");
    const status = box.querySelector(".copy-status");
    if (!field || !button || !status) continue;
    button.hidden = false;
    field.addEventListener("focus", () => field.select());
    button.addEventListener("click", async () => {
      let copied = false;
      if (navigator.clipboard && window.isSecureContext) {
        try {
          await navigator.clipboard.writeText(field.value);
          copied = true;
        } catch {
          copied = false;
        }
      }
      if (!copied) copied = copyBySelection(field);
      status.textContent = copied ? "نُسخ الرابط." : "حدّد الرابط وانسخه يدويًا.";
    });
  }
})();
