// Pairwise widget: the prompt, then responses A and B side by side, the choice buttons and
// (unless the project turns it off) a rationale box.
// Keys: 1 or A = A is better, 2 or B = B is better, 3 or T = tie (when ties are allowed);
// R (or Tab) goes to the rationale box, Escape leaves it. See task.js for the contract.
(function () {
  "use strict";
  window.HandloomWidgets = window.HandloomWidgets || {};

  window.HandloomWidgets.pairwise = {
    mount: function (container, ctx, api) {
      var D = window.HandloomDom;
      var el = D.el;
      var cfg = ctx.config;
      var p = ctx.payload;
      var allowTie = cfg.allow_tie !== false;
      var rationaleMode = cfg.rationale || "optional";
      var choice = null;

      if (p.prompt) {
        container.appendChild(D.section("Prompt", el("div", { cls: "item-text hw-text hw-prompt", text: p.prompt })));
      }
      var more = D.extras(p, ["prompt", "a", "b"]);
      if (more) { container.appendChild(more); }

      function pane(side, text) {
        var id = D.uid("pane");
        var badge = el("span", { cls: "hw-badge hw-chosen-badge", text: "✓ Chosen", attrs: { hidden: true } });
        var node = el("section", { cls: "hw-pane", attrs: { "aria-labelledby": id, "data-side": side } }, [
          el("h2", { cls: "hw-pane-title", attrs: { id: id } }, ["Response " + side + " ", badge]),
          el("div", { cls: "item-text hw-text", text: text })
        ]);
        node.badge = badge;
        return node;
      }
      var paneA = pane("A", p.a);
      var paneB = pane("B", p.b);
      container.appendChild(el("div", { cls: "hw-panes" }, [paneA, paneB]));

      var options = [
        { value: "A", keys: ["1", "A"], text: "A is better" },
        { value: "B", keys: ["2", "B"], text: "B is better" }
      ];
      if (allowTie) { options.push({ value: "tie", keys: ["3", "T"], text: "Tie" }); }

      var questionId = D.uid("question");
      var group = el("div", { cls: "hw-choices", attrs: { role: "group", "aria-labelledby": questionId } });
      var buttons = options.map(function (option) {
        var button = el("button", {
          cls: "hw-choice",
          attrs: { type: "button", "aria-pressed": "false", "data-choice": option.value,
            "aria-keyshortcuts": option.keys.join(" ") }
        }, [D.kbd(option.keys[0]), el("span", { cls: "hw-choice-text", text: option.text })]);
        button.addEventListener("click", function () { choose(option.value); });
        group.appendChild(button);
        return button;
      });
      container.appendChild(el("div", { cls: "hw-answer" }, [
        el("h2", { cls: "hw-heading", attrs: { id: questionId }, text: cfg.criteria || "Which response is better?" }),
        group
      ]));

      var rationale = null;
      if (rationaleMode !== "off") {
        var rid = D.uid("rationale");
        rationale = el("textarea", { attrs: { id: rid, rows: "3", maxlength: "5000",
          "aria-required": rationaleMode === "required" ? "true" : null } });
        rationale.addEventListener("input", function () { api.changed(); });
        container.appendChild(el("div", { cls: "hw-field" }, [
          el("label", { attrs: { "for": rid },
            text: rationaleMode === "required" ? "Rationale (required)" : "Rationale (optional)" }),
          rationale
        ]));
      }

      function render() {
        buttons.forEach(function (button) {
          var on = button.getAttribute("data-choice") === choice;
          button.setAttribute("aria-pressed", on ? "true" : "false");
          button.classList.toggle("is-selected", on);
        });
        [paneA, paneB].forEach(function (node) {
          var on = choice === node.getAttribute("data-side") || choice === "tie";
          node.classList.toggle("is-chosen", on);
          node.badge.hidden = !on;
          node.badge.textContent = choice === "tie" ? "= Tie" : "✓ Chosen";
        });
      }

      function choose(value) {
        if (value === "tie" && !allowTie) { return false; }
        choice = value;
        render();
        api.changed();
        return true;
      }

      return {
        getAnswer: function () {
          if (!choice) { return null; }
          var answer = { choice: choice };
          if (rationale) {
            var text = rationale.value.trim();
            if (rationaleMode === "required" && !text) { return null; }
            if (text) { answer.rationale = text; }
          }
          return answer;
        },
        setAnswer: function (answer) {
          choice = answer && answer.choice ? answer.choice : null;
          if (rationale) { rationale.value = (answer && answer.rationale) || ""; }
          render();
          api.changed();
        },
        handleKey: function (event) {
          if (event.altKey) { return false; }
          var key = (event.key || "").toLowerCase();
          var digit = D.digitOf(event);
          if (digit === 1 || key === "a") { return choose("A"); }
          if (digit === 2 || key === "b") { return choose("B"); }
          if (digit === 3 || key === "t") { return choose("tie"); }
          if (key === "r" && rationale && !event.shiftKey) { rationale.focus(); return true; }
          return false;
        },
        hotkeys: function () {
          var keys = [{ key: "1/A", label: "A is better" }, { key: "2/B", label: "B is better" }];
          if (allowTie) { keys.push({ key: "3/T", label: "tie" }); }
          if (rationale) { keys.push({ key: "R or Tab", label: "rationale" }); }
          return keys;
        },
        focus: function () { container.setAttribute("tabindex", "-1"); container.focus(); }
      };
    }
  };
})();
