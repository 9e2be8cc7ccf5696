// Free-text widget. Write mode: the prompt (and any text given) and a text box. Rewrite
// mode: the original, a text box prefilled with it, and a live word-level diff of the
// rewrite against the original. A counter enforces min_chars/max_chars (counted after
// trimming, as the server does).
// Keys: typing goes into the text box (focused on start); Ctrl+Enter submits; Escape leaves
// the box, E (or W) goes back into it. See task.js for the contract.
(function () {
  "use strict";
  window.HandloomWidgets = window.HandloomWidgets || {};

  // Whitespace and non-whitespace runs, so that the diff keeps the original spacing.
  function tokens(text) { return text.match(/\s+|[^\s]+/g) || []; }

  // Longest common subsequence over word tokens (whitespace compared loosely); returns
  // [{op: "same"|"del"|"ins", text}] with neighbouring runs of one kind merged.
  function diff(a, b) {
    var n = a.length, m = b.length;
    if (n * m > 4000000) { return null; }
    function eq(x, y) { return x === y || (/^\s+$/.test(x) && /^\s+$/.test(y)); }
    var width = m + 1;
    var table = new Uint32Array((n + 1) * width);
    for (var i = n - 1; i >= 0; i -= 1) {
      for (var j = m - 1; j >= 0; j -= 1) {
        table[i * width + j] = eq(a[i], b[j]) ? table[(i + 1) * width + j + 1] + 1
          : Math.max(table[(i + 1) * width + j], table[i * width + j + 1]);
      }
    }
    var out = [];
    function push(op, text) {
      var last = out[out.length - 1];
      if (last && last.op === op) { last.text += text; } else { out.push({ op: op, text: text }); }
    }
    var x = 0, y = 0;
    while (x < n && y < m) {
      if (eq(a[x], b[y])) { push("same", b[y]); x += 1; y += 1; }
      else if (table[(x + 1) * width + y] >= table[x * width + y + 1]) { push("del", a[x]); x += 1; }
      else { push("ins", b[y]); y += 1; }
    }
    while (x < n) { push("del", a[x]); x += 1; }
    while (y < m) { push("ins", b[y]); y += 1; }
    return group(out);
  }

  // Changes separated only by spaces read better as one block: all that was removed, then
  // all that was added ("old words" → "new words" instead of "old new words words").
  function group(parts) {
    var out = [];
    var i = 0;
    while (i < parts.length) {
      if (parts[i].op === "same") { out.push(parts[i]); i += 1; continue; }
      var del = "", ins = "";
      while (i < parts.length) {
        var part = parts[i];
        if (part.op === "same") {
          var next = parts[i + 1];
          if (!/^\s+$/.test(part.text) || !next || next.op === "same") { break; }
          del += part.text;
          ins += part.text;
          i += 1;
          continue;
        }
        if (part.op === "del") { del += part.text; } else { ins += part.text; }
        i += 1;
      }
      if (/\S/.test(del)) { out.push({ op: "del", text: del }); }
      if (/\S/.test(ins)) { out.push({ op: "ins", text: ins }); }
      if (!/\S/.test(del) && !/\S/.test(ins) && (del || ins)) { out.push({ op: "same", text: ins || del }); }
    }
    return out;
  }

  window.HandloomWidgets.freetext = {
    mount: function (container, ctx, api) {
      var D = window.HandloomDom;
      var el = D.el;
      var cfg = ctx.config;
      var p = ctx.payload;
      var rewrite = cfg.mode === "rewrite";
      var minChars = typeof cfg.min_chars === "number" ? cfg.min_chars : 1;
      var maxChars = typeof cfg.max_chars === "number" ? cfg.max_chars : 20000;
      var original = typeof p.text === "string" ? p.text : "";

      if (p.prompt) {
        container.appendChild(D.section(rewrite ? "Task" : "Prompt", el("div", { cls: "item-text hw-text hw-prompt", text: p.prompt })));
      }
      if (original) {
        container.appendChild(D.section(rewrite ? "Original" : "Text", el("div", { cls: "item-text hw-text hw-original", text: original })));
      }
      var more = D.extras(p, ["prompt", "text"]);
      if (more) { container.appendChild(more); }

      var boxId = D.uid("ft");
      var counterId = D.uid("ft-count");
      var box = el("textarea", { cls: "hw-freetext", attrs: {
        id: boxId, rows: rewrite ? "6" : "8", spellcheck: "true", "aria-describedby": counterId,
        "aria-required": minChars > 0 ? "true" : null } });
      if (rewrite) { box.value = original; }
      var counter = el("p", { cls: "hw-counter", attrs: { id: counterId } });
      container.appendChild(el("div", { cls: "hw-field" }, [
        el("label", { attrs: { "for": boxId }, text: rewrite ? "Your rewrite" : "Your response" }),
        box, counter
      ]));

      var diffBox = null;
      if (rewrite) {
        diffBox = el("div", { cls: "item-text hw-text hw-diff", attrs: { "aria-label": "Changes against the original" } });
        container.appendChild(el("section", { cls: "hw-section" }, [
          el("h2", { cls: "hw-heading" }, ["Changes ",
            el("span", { cls: "hw-legend" }, [el("del", { cls: "hw-del", text: "removed" }), " ",
              el("ins", { cls: "hw-ins", text: "added" })])]),
          diffBox
        ]));
      }

      function length() { return box.value.trim().length; }

      function renderCounter() {
        var n = length();
        var bits = [n + " / " + maxChars + " characters"];
        if (minChars > 0) { bits.push("at least " + minChars); }
        var problem = "";
        if (n < minChars) { problem = "Write at least " + (minChars - n) + " more."; }
        if (n > maxChars) { problem = (n - maxChars) + " too many."; }
        if (rewrite && box.value === original) { problem = problem || "No changes yet."; }
        counter.textContent = bits.join(" (") + (minChars > 0 ? ")" : "") + (problem ? " — " + problem : "");
        counter.classList.toggle("is-invalid", n < minChars || n > maxChars);
      }

      var diffTimer = null;
      function renderDiff() {
        if (!diffBox) { return; }
        D.clear(diffBox);
        var parts = diff(tokens(original), tokens(box.value));
        if (parts === null) {
          diffBox.appendChild(el("span", { cls: "muted", text: "The text is too long to compare as you type." }));
          return;
        }
        parts.forEach(function (part, i) {
          if (part.op === "same") { diffBox.appendChild(document.createTextNode(part.text)); return; }
          // A removal followed by its replacement: keep them apart on screen.
          if (part.op === "ins" && i > 0 && parts[i - 1].op === "del") { diffBox.appendChild(document.createTextNode(" ")); }
          // Mark the words; leading and trailing spaces stay plain.
          var m = /^(\s*)([\s\S]*?)(\s*)$/.exec(part.text);
          if (m[1]) { diffBox.appendChild(document.createTextNode(m[1])); }
          if (m[2]) {
            var tag = part.op === "ins" ? "ins" : "del";
            diffBox.appendChild(el(tag, { cls: part.op === "ins" ? "hw-ins" : "hw-del", text: m[2] }));
          }
          if (m[3]) { diffBox.appendChild(document.createTextNode(m[3])); }
        });
        if (box.value === original) {
          diffBox.appendChild(el("span", { cls: "sr-only", text: " (no changes)" }));
        }
      }

      box.addEventListener("input", function () {
        renderCounter();
        if (diffTimer) { window.clearTimeout(diffTimer); }
        diffTimer = window.setTimeout(renderDiff, 120);
        api.changed();
      });

      renderCounter();
      renderDiff();

      return {
        getAnswer: function () {
          var n = length();
          if (n < minChars || n > maxChars) { return null; }
          return { text: box.value };
        },
        setAnswer: function (answer) {
          box.value = answer && typeof answer.text === "string" ? answer.text : (rewrite ? original : "");
          renderCounter();
          renderDiff();
          api.changed();
        },
        handleKey: function (event) {
          var key = (event.key || "").toLowerCase();
          if (!event.shiftKey && !event.altKey && (key === "e" || key === "w")) { box.focus(); return true; }
          return false;
        },
        hotkeys: function () {
          return [{ key: "E", label: "back into the text box" }];
        },
        focus: function () {
          box.focus();
          if (rewrite) { box.setSelectionRange(box.value.length, box.value.length); }
        }
      };
    }
  };
})();
