// Classification widget: the item text and one button per label.
// Keys: 1..9 choose label n (multi-label projects: toggle it). See task.js for the contract.
(function () {
  "use strict";
  window.HandloomWidgets = window.HandloomWidgets || {};

  window.HandloomWidgets.classification = {
    mount: function (container, ctx, api) {
      var D = window.HandloomDom;
      var el = D.el;
      var labels = ctx.config.labels || [];
      var multi = !!ctx.config.multi_label;
      var chosen = {};          // label -> true
      var buttons = [];

      container.appendChild(D.section("Item", el("div", { cls: "item-text hw-text", text: ctx.payload.text })));
      var more = D.extras(ctx.payload, ["text"]);
      if (more) { container.appendChild(more); }

      var groupId = D.uid("cls");
      var group = el("div", { cls: "hw-choices", attrs: { role: "group", "aria-labelledby": groupId } });
      labels.forEach(function (label, i) {
        var children = [];
        if (i < 9) { children.push(D.kbd(String(i + 1))); }
        children.push(el("span", { cls: "hw-choice-text", text: label }));
        var button = el("button", {
          cls: "hw-choice",
          attrs: { type: "button", "aria-pressed": "false", "data-label": label }
        }, children);
        button.addEventListener("click", function () { pick(i); });
        buttons.push(button);
        group.appendChild(button);
      });
      container.appendChild(el("div", { cls: "hw-answer" }, [
        el("h2", { cls: "hw-heading", attrs: { id: groupId },
          text: multi ? "Labels (choose all that apply)" : "Label (choose one)" }),
        group
      ]));

      function render() {
        buttons.forEach(function (button, i) {
          var on = !!chosen[labels[i]];
          button.setAttribute("aria-pressed", on ? "true" : "false");
          button.classList.toggle("is-selected", on);
        });
      }

      function pick(i) {
        var label = labels[i];
        if (label === undefined) { return false; }
        if (multi) {
          if (chosen[label]) { delete chosen[label]; } else { chosen[label] = true; }
        } else {
          chosen = {};
          chosen[label] = true;
        }
        render();
        api.changed();
        return true;
      }

      return {
        getAnswer: function () {
          var picked = labels.filter(function (label) { return chosen[label]; });
          if (!picked.length) { return null; }
          return multi ? { labels: picked } : { label: picked[0] };
        },
        setAnswer: function (answer) {
          chosen = {};
          if (answer && answer.label) { chosen[answer.label] = true; }
          ((answer && answer.labels) || []).forEach(function (label) { chosen[label] = true; });
          render();
          api.changed();
        },
        handleKey: function (event) {
          if (event.altKey || event.shiftKey) { return false; }
          var digit = D.digitOf(event);
          if (digit >= 1 && digit <= Math.min(9, labels.length)) { return pick(digit - 1); }
          return false;
        },
        hotkeys: function () {
          var n = Math.min(9, labels.length);
          return [{ key: n > 1 ? "1–" + n : "1", label: multi ? "toggle a label" : "choose a label" }];
        },
        focus: function () { container.setAttribute("tabindex", "-1"); container.focus(); }
      };
    }
  };
})();
