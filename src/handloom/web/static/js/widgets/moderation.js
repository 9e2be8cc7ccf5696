// Moderation widget: the context (when given), the post, then the decision, the policy
// categories, the severity and an optional note.
// Keys: a decision's letter (shown on its button: A allow, R remove, E escalate for the
// default decisions; another letter of the word when first letters clash) chooses it;
// Shift+1..9 toggles category n; the number keys severity_min..severity_max (0–9) set the
// severity, ArrowLeft/ArrowRight lower/raise it; N goes to the note. Complete when a
// decision and a severity are chosen. See task.js for the contract.
(function () {
  "use strict";
  window.HandloomWidgets = window.HandloomWidgets || {};

  // Letters the task screen keeps for itself (I toggles the instructions).
  var RESERVED = { i: true, n: true };

  function accelerators(words) {
    var used = {};
    return words.map(function (word) {
      var letters = (word.toLowerCase().match(/[a-z]/g) || []);
      for (var i = 0; i < letters.length; i += 1) {
        var ch = letters[i];
        if (!used[ch] && !RESERVED[ch]) { used[ch] = true; return ch; }
      }
      return null;
    });
  }

  window.HandloomWidgets.moderation = {
    mount: function (container, ctx, api) {
      var D = window.HandloomDom;
      var el = D.el;
      var cfg = ctx.config;
      var p = ctx.payload;
      var decisions = cfg.decisions || ["allow", "remove", "escalate"];
      var categories = cfg.categories || [];
      var sevMin = typeof cfg.severity_min === "number" ? cfg.severity_min : 0;
      var sevMax = typeof cfg.severity_max === "number" ? cfg.severity_max : 3;
      var letters = accelerators(decisions);
      var decision = null;
      var severity = null;
      var checked = {};

      if (p.context) {
        container.appendChild(D.section("Context", el("div", { cls: "item-text hw-text hw-context", text: p.context })));
      }
      container.appendChild(D.section("Post", el("div", { cls: "item-text hw-text", text: p.text })));
      var more = D.extras(p, ["text", "context"]);
      if (more) { container.appendChild(more); }

      // Decision
      var decId = D.uid("decision");
      var decGroup = el("div", { cls: "hw-choices", attrs: { role: "group", "aria-labelledby": decId } });
      var decButtons = decisions.map(function (d, i) {
        var hint = letters[i] ? letters[i].toUpperCase() : "Alt+" + (i + 1);
        var button = el("button", { cls: "hw-choice hw-decision", attrs: {
          type: "button", "aria-pressed": "false", "data-decision": d, "aria-keyshortcuts": hint } },
          [D.kbd(hint), el("span", { cls: "hw-choice-text", text: d })]);
        button.addEventListener("click", function () { setDecision(d); });
        decGroup.appendChild(button);
        return button;
      });

      // Categories
      var catId = D.uid("categories");
      var catBox = el("div", { cls: "hw-checks", attrs: { role: "group", "aria-labelledby": catId } });
      var catInputs = categories.map(function (c, i) {
        var id = D.uid("cat");
        var input = el("input", { attrs: { type: "checkbox", id: id, "data-category": c } });
        input.addEventListener("change", function () { checked[c] = input.checked; render(); api.changed(); });
        var label = el("label", { cls: "hw-check", attrs: { "for": id } },
          [input, i < 9 ? D.kbd("Shift+" + (i + 1)) : null, el("span", { text: c })]);
        catBox.appendChild(label);
        return input;
      });

      // Severity
      var sevId = D.uid("severity");
      var sevGroup = el("div", { cls: "hw-choices", attrs: { role: "group", "aria-labelledby": sevId } });
      var sevButtons = [];
      for (var v = sevMin; v <= sevMax; v += 1) {
        (function (value) {
          var digitKey = value >= 0 && value <= 9;
          var button = el("button", { cls: "hw-choice hw-severity", attrs: {
            type: "button", "aria-pressed": "false", "data-severity": String(value),
            "aria-label": "Severity " + value } },
            [el("span", { cls: "hw-choice-text", text: String(value) })]);
          if (digitKey) { button.setAttribute("aria-keyshortcuts", String(value)); }
          button.addEventListener("click", function () { setSeverity(value); });
          sevGroup.appendChild(button);
          sevButtons.push(button);
        })(v);
      }

      var noteId = D.uid("note");
      var note = el("textarea", { attrs: { id: noteId, rows: "2", maxlength: "5000" } });

      container.appendChild(el("div", { cls: "hw-answer hw-moderation-form" }, [
        el("h2", { cls: "hw-heading", attrs: { id: decId }, text: "Decision" }), decGroup,
        el("h2", { cls: "hw-heading", attrs: { id: catId }, text: "Rules broken (all that apply)" }), catBox,
        el("h2", { cls: "hw-heading", attrs: { id: sevId }, text: "Severity (" + sevMin + "–" + sevMax + ")" }), sevGroup,
        el("div", { cls: "hw-field" }, [el("label", { attrs: { "for": noteId }, text: "Note (optional)" }), note])
      ]));

      function render() {
        decButtons.forEach(function (b) {
          var on = b.getAttribute("data-decision") === decision;
          b.setAttribute("aria-pressed", on ? "true" : "false");
          b.classList.toggle("is-selected", on);
        });
        sevButtons.forEach(function (b) {
          var on = parseInt(b.getAttribute("data-severity"), 10) === severity;
          b.setAttribute("aria-pressed", on ? "true" : "false");
          b.classList.toggle("is-selected", on);
        });
        catInputs.forEach(function (input, i) {
          input.checked = !!checked[categories[i]];
          input.parentNode.classList.toggle("is-selected", input.checked);
        });
      }

      function setDecision(d) { decision = d; render(); api.changed(); return true; }
      function setSeverity(value) {
        if (value < sevMin || value > sevMax) { return false; }
        severity = value; render(); api.changed(); return true;
      }
      function toggleCategory(i) {
        var c = categories[i];
        if (c === undefined) { return false; }
        checked[c] = !checked[c];
        render();
        api.changed();
        return true;
      }

      render();

      return {
        getAnswer: function () {
          if (decision === null || severity === null) { return null; }
          var answer = {
            decision: decision,
            categories: categories.filter(function (c) { return checked[c]; }),
            severity: severity
          };
          var text = note.value.trim();
          if (text) { answer.note = text; }
          return answer;
        },
        setAnswer: function (answer) {
          answer = answer || {};
          decision = answer.decision || null;
          severity = typeof answer.severity === "number" ? answer.severity : null;
          checked = {};
          (answer.categories || []).forEach(function (c) { checked[c] = true; });
          note.value = answer.note || "";
          render();
          api.changed();
        },
        handleKey: function (event) {
          var key = (event.key || "").toLowerCase();
          var digit = D.digitOf(event);
          if (event.altKey) {
            if (digit >= 1 && digit <= decisions.length && !letters[digit - 1]) { return setDecision(decisions[digit - 1]); }
            return false;
          }
          if (event.shiftKey) {
            if (digit >= 1 && digit <= Math.min(9, categories.length)) { return toggleCategory(digit - 1); }
            return false;
          }
          if (digit >= 0) { return setSeverity(digit); }
          if (key === "arrowleft" || key === "arrowright") {
            var step = key === "arrowleft" ? -1 : 1;
            var next = severity === null ? (step > 0 ? sevMin : sevMax) : Math.max(sevMin, Math.min(sevMax, severity + step));
            return setSeverity(next);
          }
          if (key === "n") { note.focus(); return true; }
          var at = letters.indexOf(key);
          if (key.length === 1 && at >= 0) { return setDecision(decisions[at]); }
          return false;
        },
        hotkeys: function () {
          var keys = decisions.map(function (d, i) {
            return { key: letters[i] ? letters[i].toUpperCase() : "Alt+" + (i + 1), label: d };
          });
          var n = Math.min(9, categories.length);
          if (n) { keys.push({ key: n > 1 ? "Shift+1–" + n : "Shift+1", label: "toggle a rule" }); }
          var lo = Math.max(0, sevMin), hi = Math.min(9, sevMax);
          if (lo <= hi) { keys.push({ key: lo === hi ? String(lo) : lo + "–" + hi, label: "severity" }); }
          keys.push({ key: "←/→", label: "lower/raise severity" });
          keys.push({ key: "N", label: "note" });
          return keys;
        },
        focus: function () { container.setAttribute("tabindex", "-1"); container.focus(); }
      };
    }
  };
})();
