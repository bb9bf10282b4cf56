// The signup box sits in cached pages, which all readers share, so it cannot
// carry a token of its own. When a reader starts filling it in, fetch a
// fresh one: the server then knows when this reader saw the form, and the
// signup takes one click. Without this script it takes two (the signup
// page asks once more), and still works.
"use strict";
document.querySelectorAll("form[data-newsletter]").forEach((form) => {
  let asked = false;
  form.addEventListener("focusin", () => {
    if (asked) return;
    asked = true;
    fetch("/newsletter/form-token", { credentials: "same-origin", cache: "no-store" })
      .then((response) => (response.ok ? response.json() : null))
      .then((answer) => {
        if (answer && answer.token && !answer.challenge) {
          form.querySelector("input[name=token]").value = answer.token;
        }
      })
      .catch(() => {});
  });
});
