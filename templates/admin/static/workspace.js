// The workspace's only script: live preview, autosave and live counts. Plain JS, no build step;
// every page works without it (forms post normally), it only saves reloads.
"use strict";

(function () {
  const MODES = ["phone", "desktop", "dark"];

  function kb(bytes) { return (bytes / 1024).toFixed(1) + " KB"; }

  function noteText(note) {
    return (note.line ? "line " + note.line + ": " : "") + note.message;
  }

  // Fill the preview panel from the JSON summary of mailer/issue/preview.py.
  function showSummary(panel, data, onLine) {
    panel.querySelector("[data-preview-subject]").textContent = data.subject || "";
    panel.querySelector("[data-preview-preheader]").textContent = data.preheader || "";
    const size = panel.querySelector("[data-preview-size]");
    if (data.ok) {
      size.textContent = kb(data.size_bytes) + " of Gmail's " + kb(data.clip_bytes) +
        " before it clips the message" + (data.clipped ? ": TOO BIG, Gmail will hide the footer" : "");
      size.classList.toggle("bad", data.clipped);
    }
    const error = panel.querySelector("[data-preview-error]");
    error.hidden = data.ok;
    error.textContent = data.ok ? "" : "The issue cannot be rendered: " + noteText(data.error) +
      " (the preview shows the last version that worked)";
    if (!data.ok) { return; }
    const list = panel.querySelector("[data-preview-warnings]");
    list.replaceChildren();
    for (const note of data.warnings) {
      const item = document.createElement("li");
      if (note.line && onLine) {
        const jump = document.createElement("button");
        jump.type = "button";
        jump.className = "link";
        jump.textContent = "line " + note.line;
        jump.addEventListener("click", () => onLine(note.line));
        item.append(jump, ": " + note.message);
      } else {
        item.textContent = noteText(note);
      }
      list.append(item);
    }
    if (!data.warnings.length) {
      list.innerHTML = "<li class=\"muted\">No warnings.</li>";
    }
    panel.querySelector("[data-preview-text]").textContent = data.text;
  }

  function setStatus(panel, text) {
    panel.querySelector("[data-preview-status]").textContent = text;
  }

  // `newsletter preview`: follow the file on disk by polling its modification time.
  function watchFile(root) {
    const panel = root.querySelector(".preview");
    const frames = panel.dataset.frames;
    let seen = null;
    async function tick() {
      try {
        const stamp = (await (await fetch(root.dataset.watch)).json()).mtime;
        if (stamp !== seen) {
          seen = stamp;
          const data = await (await fetch(root.dataset.state)).json();
          showSummary(panel, data, null);
          if (data.ok) {
            for (const mode of MODES) {
              panel.querySelector("[data-frame=" + mode + "]").src = frames + mode + "?v=" + stamp;
            }
          }
          setStatus(panel, "updated " + new Date().toLocaleTimeString());
        }
      } catch (err) {
        setStatus(panel, "the preview server does not answer");
      }
      window.setTimeout(tick, 1000);
    }
    tick();
  }

  function debounce(fn, ms) {
    let timer = null;
    return function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(fn, ms);
    };
  }

  function jumpTo(textarea, line) {
    const lines = textarea.value.split("\n");
    const start = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
    textarea.focus();
    textarea.setSelectionRange(start, start + (lines[line - 1] || "").length);
    const height = textarea.scrollHeight / Math.max(lines.length, 1);
    textarea.scrollTop = Math.max(0, (line - 3) * height);
  }

  function postJson(url, csrf, body) {
    return fetch(url, {
      method: "POST",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
  }

  // The editor page: preview as the editor types (debounced), autosave the draft.
  function editIssue(form) {
    const textarea = form.querySelector("textarea[name=markdown]");
    const panel = document.querySelector(".preview");
    const csrf = form.querySelector("input[name=csrf_token]").value;
    const version = form.querySelector("input[name=version]");
    const saveState = document.querySelector("[data-save-state]");
    let last = null;

    const viewAs = document.getElementById("view_as");

    async function refresh() {
      const markdown = textarea.value;
      const who = viewAs ? viewAs.value : "";
      if (markdown + "\u0000" + who === last) { return; }
      last = markdown + "\u0000" + who;
      setStatus(panel, "updating…");
      const response = await postJson(form.dataset.preview, csrf, {markdown: markdown, view_as: who});
      if (!response.ok) { setStatus(panel, "preview failed (" + response.status + ")"); return; }
      const data = await response.json();
      showSummary(panel, data, (line) => jumpTo(textarea, line));
      if (data.ok) {
        for (const frameForm of document.querySelectorAll("form[data-frame-form]")) {
          frameForm.querySelector("[name=markdown]").value = markdown;
          frameForm.querySelector("[name=view_as]").value = who;
          frameForm.submit();
        }
      }
      setStatus(panel, "up to date");
    }

    const issueId = form.querySelector("input[name=issue_id]");
    const key = () => "newsletter-draft-" + (issueId.value || "new");

    // A draft the server refused (too long to store) stays in this browser until it is saved.
    function keepLocally() {
      window.localStorage.setItem(key(), JSON.stringify(
        {markdown: textarea.value, version: version.value}));
    }

    function offerRestore() {
      const kept = JSON.parse(window.localStorage.getItem(key()) || "null");
      if (!kept || kept.version !== version.value || kept.markdown === textarea.value) { return; }
      const button = document.createElement("button");
      button.type = "button";
      button.className = "link";
      button.textContent = "Restore the unsaved text kept in this browser";
      button.addEventListener("click", () => {
        textarea.value = kept.markdown;
        button.remove();
        textarea.dispatchEvent(new Event("input"));
      });
      saveState.replaceChildren(button);
    }

    async function save() {
      saveState.classList.remove("bad");
      saveState.textContent = "saving…";
      const response = await postJson(form.dataset.autosave, csrf, {
        issue_id: issueId.value ? Number(issueId.value) : null,
        version: Number(version.value),
        markdown: textarea.value,
      });
      const data = await response.json().catch(() => ({}));
      if (response.ok) {
        window.localStorage.removeItem(key());
        issueId.value = data.issue_id;
        version.value = data.version;
        if (window.location.pathname !== data.url) { window.history.replaceState(null, "", data.url); }
        // A draft that does not parse is saved all the same; it only cannot go out yet.
        saveState.textContent = "saved (version " + data.version + ") at " +
          new Date().toLocaleTimeString() +
          (data.error ? ", but it does not parse: " + noteText(data.error) : "");
        saveState.classList.toggle("bad", Boolean(data.error));
        return;
      }
      if (response.status === 422) { keepLocally(); }
      saveState.textContent = (data.detail || "not saved (" + response.status + ")") +
        (response.status === 422 ? " (kept in this browser until it can be saved)" : "");
      saveState.classList.add("bad");
    }

    textarea.addEventListener("input", debounce(refresh, 350));
    if (viewAs) { viewAs.addEventListener("input", debounce(refresh, 500)); }
    if (form.dataset.autosave) { textarea.addEventListener("input", debounce(save, 1200)); }
    offerRestore();
    refresh();
  }

  // A segment field: show how many people it selects, or the error at its column.
  function liveCount(input) {
    const out = document.getElementById(input.dataset.countOut);
    const list = document.getElementById(input.dataset.countList);
    const csrf = input.form.querySelector("input[name=csrf_token]").value;
    async function count() {
      const response = await postJson(input.dataset.count, csrf,
        {segment: input.value, list: list ? list.value : ""});
      const data = await response.json().catch(() => ({}));
      out.textContent = response.ok ? data.count + " people" : (data.detail || "cannot count");
      out.classList.toggle("bad", !response.ok);
    }
    const later = debounce(count, 400);
    input.addEventListener("input", later);
    if (list) { list.addEventListener("change", later); }
    count();
  }

  // A send's page: follow its progress without reloading.
  function followSend(root) {
    async function tick() {
      try {
        const data = await (await fetch(root.dataset.progress)).json();
        for (const [key, value] of Object.entries(data)) {
          const cell = root.querySelector("[data-field=" + key + "]");
          if (cell) { cell.textContent = value; }
        }
        const bar = root.querySelector("progress");
        if (bar && data.total) { bar.max = data.total; bar.value = data.done; }
        if (data.finished) { return; }
      } catch (err) { /* the next tick tries again */ }
      window.setTimeout(tick, 1500);
    }
    tick();
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-watch]").forEach(watchFile);
    document.querySelectorAll("form[data-preview]").forEach(editIssue);
    document.querySelectorAll("input[data-count]").forEach(liveCount);
    document.querySelectorAll("[data-progress]").forEach(followSend);
  });
})();
