// Rating widget: the prompt and text, then one row per criterion with its scale as buttons
// (anchor descriptions under their scores) and an optional comment.
// Keys: ArrowUp/ArrowDown choose the criterion, a number key sets its score (two digits in
// quick succession for scores above 9) and moves on to the next unscored criterion,
// ArrowLeft/ArrowRight lower/raise the score, C goes to the comment. See task.js.
(function () {
  "use strict";
  window.HandloomWidgets = window.HandloomWidgets || {};

  window.HandloomWidgets.rating = {
    mount: function (container, ctx, api) {
      var D = window.HandloomDom;
      var el = D.el;
      var p = ctx.payload;
      var criteria = ctx.config.criteria || [];
      var scores = {};
      var active = 0;
      var pending = null;       // {value, at}: the first digit of a two-digit score

      if (p.prompt) {
        container.appendChild(D.section("Prompt", el("div", { cls: "item-text hw-text hw-prompt", text: p.prompt })));
      }
      container.appendChild(D.section(p.prompt ? "Response" : "Text", el("div", { cls: "item-text hw-text", text: p.text })));
      var more = D.extras(p, ["prompt", "text"]);
      if (more) { container.appendChild(more); }

      var rowsBox = el("div", { cls: "hw-criteria" });
      container.appendChild(el("div", { cls: "hw-answer" }, [
        el("h2", { cls: "hw-heading", text: "Scores" }), rowsBox
      ]));

      var rows = criteria.map(function (c, ci) {
        var nameId = D.uid("crit");
        var buttons = [];
        var scale = el("div", { cls: "hw-scale", attrs: { role: "group", "aria-labelledby": nameId } });
        for (var v = c.min; v <= c.max; v += 1) {
          var anchor = (c.anchors || {})[String(v)];
          var button = el("button", {
            cls: "hw-choice hw-score",
            attrs: { type: "button", "aria-pressed": "false", "data-score": String(v),
              "aria-label": c.name + ": " + v + (anchor ? " – " + anchor : "") }
          }, [el("span", { cls: "hw-score-value", text: String(v) }),
            anchor ? el("span", { cls: "hw-anchor", text: anchor }) : null]);
          button.addEventListener("click", (function (value) {
            return function () { setActive(ci); setScore(ci, value, false); };
          })(v));
          buttons.push(button);
          scale.appendChild(button);
        }
        var state = el("span", { cls: "hw-crit-state" });
        var row = el("div", { cls: "hw-criterion", attrs: { "data-criterion": c.name } }, [
          el("div", { cls: "hw-crit-head" }, [
            el("h3", { cls: "hw-crit-name", text: c.name, attrs: { id: nameId } }),
            el("span", { cls: "hw-crit-range", text: c.min + "–" + c.max }), state
          ]),
          scale
        ]);
        row.addEventListener("click", function () { setActive(ci); });
        row.buttons = buttons;
        row.state = state;
        rowsBox.appendChild(row);
        return row;
      });

      var cid = D.uid("comment");
      var comment = el("textarea", { attrs: { id: cid, rows: "2", maxlength: "5000" } });
      container.appendChild(el("div", { cls: "hw-field" }, [
        el("label", { attrs: { "for": cid }, text: "Comment (optional)" }), comment
      ]));

      function render() {
        rows.forEach(function (row, ci) {
          var c = criteria[ci];
          var isActive = ci === active;
          row.classList.toggle("is-active", isActive);
          row.buttons.forEach(function (button) {
            var on = scores[c.name] === parseInt(button.getAttribute("data-score"), 10);
            button.setAttribute("aria-pressed", on ? "true" : "false");
            button.classList.toggle("is-selected", on);
          });
          row.state.textContent = scores[c.name] === undefined ? "not scored" : "✓ " + scores[c.name];
          row.state.classList.toggle("is-done", scores[c.name] !== undefined);
        });
      }

      function setActive(ci) {
        if (ci < 0 || ci >= criteria.length) { return false; }
        active = ci;
        pending = null;
        render();
        if (rows[ci].scrollIntoView) { rows[ci].scrollIntoView({ block: "nearest" }); }
        return true;
      }

      function nextUnscored(ci) {
        for (var k = 1; k <= criteria.length; k += 1) {
          var next = (ci + k) % criteria.length;
          if (scores[criteria[next].name] === undefined) { active = next; return; }
        }
      }

      function setScore(ci, value, advance) {
        var c = criteria[ci];
        if (!c || value < c.min || value > c.max) { return false; }
        scores[c.name] = value;
        if (advance) { nextUnscored(ci); }
        render();
        api.changed();
        return true;
      }

      render();

      return {
        getAnswer: function () {
          for (var i = 0; i < criteria.length; i += 1) {
            if (scores[criteria[i].name] === undefined) { return null; }
          }
          var answer = { scores: {} };
          criteria.forEach(function (c) { answer.scores[c.name] = scores[c.name]; });
          var text = comment.value.trim();
          if (text) { answer.comment = text; }
          return answer;
        },
        setAnswer: function (answer) {
          scores = {};
          var given = (answer && answer.scores) || {};
          Object.keys(given).forEach(function (name) { scores[name] = given[name]; });
          comment.value = (answer && answer.comment) || "";
          active = 0;
          render();
          api.changed();
        },
        handleKey: function (event) {
          var key = event.key;
          if (event.altKey) { return false; }
          if (key === "ArrowUp") { setActive(active - 1); return true; }
          if (key === "ArrowDown") { setActive(active + 1); return true; }
          var c = criteria[active];
          if (!c) { return false; }
          if (key === "ArrowLeft" || key === "ArrowRight") {
            var now = scores[c.name];
            var step = key === "ArrowLeft" ? -1 : 1;
            var value = now === undefined ? (step > 0 ? c.min : c.max) : now + step;
            setScore(active, Math.max(c.min, Math.min(c.max, value)), false);
            return true;
          }
          if ((key === "c" || key === "C") && !event.shiftKey) { comment.focus(); return true; }
          if (event.shiftKey) { return false; }
          var digit = D.digitOf(event);
          if (digit < 0) { return false; }
          var t = Date.now();
          if (pending && t - pending.at < 900) {
            var held = pending;
            pending = null;
            var pc = criteria[held.criterion];
            var two = held.value * 10 + digit;
            if (two >= pc.min && two <= pc.max) { return setScore(held.criterion, two, true); }
            // Not a two-digit score: the first digit stands; go on as for a single digit.
            if (scores[pc.name] !== undefined) { nextUnscored(held.criterion); }
            c = criteria[active];
          }
          pending = null;
          var canGrow = digit > 0 && digit * 10 <= c.max;
          if (digit >= c.min && digit <= c.max) {
            // On a scale above 9 wait briefly for a second digit before moving on.
            if (canGrow) { pending = { value: digit, at: t, criterion: active }; }
            return setScore(active, digit, !canGrow);
          }
          if (canGrow) { pending = { value: digit, at: t, criterion: active }; return true; }
          return false;
        },
        hotkeys: function () {
          var keys = [{ key: "↑/↓", label: "choose a criterion" }];
          var c = criteria[active] || criteria[0];
          if (c) { keys.push({ key: c.min + "–" + Math.min(c.max, 9), label: "score it" }); }
          keys.push({ key: "←/→", label: "lower/raise" });
          keys.push({ key: "C", label: "comment" });
          return keys;
        },
        focus: function () { container.setAttribute("tabindex", "-1"); container.focus(); }
      };
    }
  };
})();
