// Comments sit in cached pages that every reader shares. This script adds
// what belongs to one reader: the form's ticket (the time they began
// writing, which the server wants before it lets a comment out unreviewed),
// posting and replying in place, and, for ten minutes, editing or deleting
// what this browser wrote (pending comments shown to their writer only).
// Without it the forms post normally and land on the writer's own page.
// Comment HTML comes from the server already sanitized; names are text.
"use strict";
(() => {
  const section = document.getElementById("comments");
  const mainForm = document.getElementById("comment-form");
  const anyForm = document.querySelector("form.comment-form");
  if (!anyForm) return;
  const match = anyForm.getAttribute("action").match(/^\/news\/(\d+)\/comments$/);
  if (!match) return;
  const article = match[1];
  const base = `/news/${article}/comments`;
  const csrf = anyForm.querySelector("input[name=csrf]").value;

  const json = (response) => response.json().catch(() => ({})).then((body) => ({ status: response.status, body }));
  const post = (path, fields) =>
    fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      body: fields instanceof URLSearchParams ? fields : new URLSearchParams(fields),
    }).then(json);

  const ticketFor = (form) => {
    const input = form.querySelector("input[name=ticket]");
    if (!input || input.value || form.ticketAsked) return Promise.resolve();
    form.ticketAsked = fetch(`${base}/ticket`, { credentials: "same-origin", cache: "no-store" })
      .then((response) => (response.ok ? response.json() : {}))
      .then((answer) => {
        if (answer.ticket && !input.value) input.value = answer.ticket;
      })
      .catch(() => {});
    return form.ticketAsked;
  };

  const say = (form, text, kind) => {
    let note = form.querySelector(".comment-form-status");
    if (!note) {
      note = document.createElement("p");
      note.className = "comment-form-status";
      note.setAttribute("role", "status");
      form.append(note);
    }
    note.dataset.kind = kind;
    note.textContent = text;
  };

  // A comment as the thread shows it, from the server's answer.
  const commentElement = (id, name, html, pending) => {
    const element = document.createElement("article");
    element.className = "comment comment-mine";
    element.id = `comment-${id}`;
    const header = document.createElement("header");
    header.className = "comment-meta";
    const who = document.createElement("bdi");
    who.className = "comment-name";
    who.textContent = name;
    header.append(who);
    if (pending) {
      const badge = document.createElement("span");
      badge.className = "comment-pending";
      badge.textContent = "بانتظار المراجعة — لا يراه غيرك الآن";
      header.append(" ", badge);
    }
    const body = document.createElement("div");
    body.className = "comment-body";
    body.innerHTML = html;
    element.append(header, body);
    return element;
  };

  const addOwnControls = (element, id, markdown, editableUntil) => {
    if (element.querySelector(".comment-own-actions")) return;
    const actions = document.createElement("p");
    actions.className = "comment-own-actions";
    const edit = document.createElement("button");
    edit.type = "button";
    edit.textContent = "عدّل";
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "danger";
    remove.textContent = "احذف";
    actions.append(edit, " ", remove);
    element.append(actions);
    const expire = () => actions.remove();
    setTimeout(expire, Math.max(0, editableUntil * 1000 - Date.now()));

    edit.addEventListener("click", () => {
      const body = element.querySelector(".comment-body");
      const editor = document.createElement("form");
      editor.className = "comment-edit";
      const area = document.createElement("textarea");
      area.name = "body";
      area.rows = 4;
      area.maxLength = 5000;
      area.value = markdown;
      area.setAttribute("aria-label", "نص التعليق");
      const save = document.createElement("button");
      save.type = "submit";
      save.textContent = "احفظ";
      const cancel = document.createElement("button");
      cancel.type = "button";
      cancel.textContent = "إلغاء";
      editor.append(area, save, " ", cancel);
      body.hidden = true;
      actions.hidden = true;
      body.after(editor);
      area.focus();
      cancel.addEventListener("click", () => {
        editor.remove();
        body.hidden = false;
        actions.hidden = false;
      });
      editor.addEventListener("submit", (event) => {
        event.preventDefault();
        post(`${base}/${id}/edit`, { csrf, body: area.value }).then(({ status, body: answer }) => {
          if (status !== 200) {
            say(editor, (answer.error && answer.error.arabic) || "تعذّر حفظ التعديل.", "error");
            return;
          }
          markdown = area.value;
          body.innerHTML = answer.html;
          editor.remove();
          body.hidden = false;
          actions.hidden = false;
        });
      });
    });

    remove.addEventListener("click", () => {
      if (!window.confirm("هل تريد حذف تعليقك؟")) return;
      post(`${base}/${id}/delete`, { csrf }).then(({ status }) => {
        if (status === 200) element.remove();
      });
    });
  };

  // Where a comment of this reader goes: under its parent, or at the end of the thread.
  const place = (element, parentId) => {
    const parent = parentId && document.getElementById(`comment-${parentId}`);
    if (parent) {
      let replies = parent.querySelector(".comment-replies");
      if (!replies) {
        replies = document.createElement("div");
        replies.className = "comment-replies";
        parent.append(replies);
      }
      replies.append(element);
      return;
    }
    const empty = section && section.querySelector(".comments-empty");
    if (empty) empty.remove();
    const anchor = section && (section.querySelector(".comments-pager") || mainForm);
    if (anchor) anchor.before(element);
  };

  const wire = (form) => {
    form.addEventListener("focusin", () => ticketFor(form));
    form.addEventListener("input", () => ticketFor(form), { once: true });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      ticketFor(form)
        .then(() => post(form.action, new URLSearchParams(new FormData(form))))
        .then(({ status, body }) => {
          if (status !== 201 && status !== 202) {
            say(form, (body.error && body.error.arabic) || "تعذّر نشر التعليق. حاول مجددًا.", "error");
            return;
          }
          say(form, body.message, "done");
          if (!body.id) return;
          const parentInput = form.querySelector("input[name=parent]");
          const name = form.querySelector("input[name=name]").value.trim();
          const element = commentElement(body.id, name, body.html, body.status !== "approved");
          place(element, parentInput && parentInput.value);
          addOwnControls(element, body.id, form.querySelector("textarea[name=body]").value.trim(), Date.now() / 1000 + 600);
          form.querySelector("textarea[name=body]").value = "";
          if (form.classList.contains("comment-form-inline")) form.remove();
          element.scrollIntoView({ block: "nearest" });
        })
        .catch(() => say(form, "انقطع الاتصال. حاول مجددًا.", "error"))
        .finally(() => {
          button.disabled = false;
        });
    });
  };
  document.querySelectorAll("form.comment-form[action$='/comments']").forEach(wire);

  // Replies in place: a copy of the main form under the comment answered.
  if (mainForm) {
    document.querySelectorAll("a.comment-reply[data-parent]").forEach((link) => {
      link.addEventListener("click", (event) => {
        event.preventDefault();
        const parentId = link.dataset.parent;
        const comment = document.getElementById(`comment-${parentId}`);
        const open = comment.querySelector(".comment-form-inline");
        if (open) {
          open.querySelector("textarea").focus();
          return;
        }
        const form = mainForm.cloneNode(true);
        form.removeAttribute("id");
        form.classList.add("comment-form-inline");
        form.querySelectorAll("[id]").forEach((element) => {
          element.id = `${element.id}-reply-${parentId}`;
        });
        form.querySelectorAll("label[for]").forEach((label) => {
          label.htmlFor = `${label.htmlFor}-reply-${parentId}`;
        });
        form.querySelector(".comment-form-heading").textContent = "ردّك";
        form.querySelector("input[name=ticket]").value = "";
        // The copy keeps the reader's name and email, not the comment they began above.
        form.querySelector("textarea[name=body]").value = "";
        const status = form.querySelector(".comment-form-status");
        if (status) status.remove();
        const parent = document.createElement("input");
        parent.type = "hidden";
        parent.name = "parent";
        parent.value = parentId;
        form.prepend(parent);
        link.closest(".comment-actions").after(form);
        wire(form);
        form.querySelector("input[name=name]").focus();
      });
    });
  }

  // This browser's own comments (the hint cookie says there may be some).
  if (section && document.cookie.split("; ").some((pair) => pair.startsWith("khabar_commented="))) {
    fetch(`${base}/mine`, { credentials: "same-origin", cache: "no-store" })
      .then((response) => (response.ok ? response.json() : { comments: [] }))
      .then((answer) => {
        for (const mine of answer.comments) {
          let element = document.getElementById(`comment-${mine.id}`);
          if (!element) {
            element = commentElement(mine.id, mine.name, mine.html, mine.status !== "approved");
            place(element, mine.parent_id);
          }
          addOwnControls(element, mine.id, mine.markdown, mine.editable_until);
        }
      })
      .catch(() => {});
  }
})();
