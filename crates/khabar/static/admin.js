// Newsroom editor enhancements. Everything here is optional: without
// JavaScript the "معاينة" button shows the same preview after a round trip.
"use strict";

(function () {
  const form = document.querySelector("form.editor");
  if (!form) return;
  const body = form.querySelector("#field-body_markdown");
  const preview = document.getElementById("preview");
  const csrf = form.querySelector("input[name=csrf]").value;
  const url = form.dataset.previewUrl;

  // Live preview, rendered by the server with the public page's own
  // renderer and sanitizer, so what the writer sees is what readers get.
  let timer = null;
  let sequence = 0;
  const refresh = () => {
    const mine = ++sequence;
    const data = new URLSearchParams({ csrf: csrf, body_markdown: body.value });
    fetch(url, { method: "POST", body: data, credentials: "same-origin" })
      .then((response) => (response.ok ? response.text() : Promise.reject(response.status)))
      .then((html) => {
        if (mine === sequence) preview.innerHTML = html;
      })
      .catch(() => {});
  };
  body.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 400);
  });

  // A local copy of unsaved text, so a closed tab or a lost connection does
  // not lose a writer's work; it never overwrites anything by itself.
  const key = "khabar-draft:" + form.getAttribute("action");
  const fields = ["title", "summary", "body_markdown", "section", "tags"];
  const snapshot = () => JSON.stringify(fields.map((name) => (form.elements[name] ? form.elements[name].value : "")));
  const saved = snapshot();
  const stored = window.localStorage ? localStorage.getItem(key) : null;
  if (stored && stored !== saved) {
    const offer = document.createElement("p");
    offer.className = "notice";
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "استعادة النص غير المحفوظ";
    button.addEventListener("click", () => {
      JSON.parse(stored).forEach((value, index) => {
        const field = form.elements[fields[index]];
        if (field) field.value = value;
      });
      offer.remove();
      refresh();
    });
    offer.append("لديك نص غير محفوظ من جلسة سابقة. ", button);
    form.before(offer);
  }
  form.addEventListener("input", () => {
    if (window.localStorage) localStorage.setItem(key, snapshot());
  });
  form.addEventListener("submit", () => {
    if (window.localStorage) localStorage.removeItem(key);
  });
})();
