// Polls sit in cached pages that every reader shares, so the page always
// carries the form. This script asks, per reader, whether they have voted
// (or the poll has closed) and then shows the results instead; and it votes
// in place, showing the results from the vote's own answer. Without it the
// form posts normally and the results come back as a page.
"use strict";
(() => {
  const render = (box, answer, notice) => {
    const results = answer.results;
    const holder = box.querySelector(".poll-results");
    const form = box.querySelector("form");
    if (form) form.hidden = true;
    holder.replaceChildren();
    if (notice) {
      const note = document.createElement("p");
      note.className = "poll-notice";
      note.setAttribute("role", "status");
      note.textContent = notice;
      holder.append(note);
    }
    const list = document.createElement("ul");
    list.className = "poll-result-list";
    for (const option of results.options) {
      const item = document.createElement("li");
      const label = document.createElement("span");
      label.className = "poll-result-label";
      label.textContent = option.label;
      const figures = document.createElement("span");
      figures.className = "poll-result-figures";
      figures.textContent = `${option.percent_text} · ${option.votes_text}`;
      const bar = document.createElement("progress");
      bar.max = 100;
      bar.value = option.percent;
      bar.textContent = option.percent_text;
      item.append(label, figures, bar);
      list.append(item);
    }
    const total = document.createElement("p");
    total.className = "poll-total";
    total.textContent = results.open ? `شارك حتى الآن ${results.voters_text}` : `النتيجة النهائية: ${results.voters_text}`;
    holder.append(list, total);
  };

  document.querySelectorAll("[data-poll]").forEach((box) => {
    const id = box.dataset.poll;
    fetch(`/polls/${id}/state`, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then((response) => (response.ok ? response.json() : null))
      .then((answer) => {
        if (answer && (answer.voted || !answer.results.open)) render(box, answer, null);
      })
      .catch(() => {});
    const form = box.querySelector("form");
    if (!form) return;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      fetch(form.action, {
        method: "POST",
        credentials: "same-origin",
        headers: { Accept: "application/json", "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(new FormData(form)),
      })
        .then((response) => response.json().then((answer) => ({ ok: response.ok, answer })))
        .then(({ ok, answer }) => {
          if (answer.results) {
            const notice = answer.counted === "already_voted" ? "صوّتَّ من قبل؛ صوتك الأول هو المحسوب." : answer.counted === "over_allowance" ? "أصوات كثيرة من عنوانك؛ حاول لاحقًا." : "شكرًا، حُسب صوتك.";
            render(box, answer, notice);
          } else if (!ok) {
            button.disabled = false;
            alert(answer.error ? answer.error.message : "تعذّر التصويت");
          }
        })
        .catch(() => {
          // The network failed: fall back to the ordinary form post.
          form.submit();
        });
    });
  });
})();
