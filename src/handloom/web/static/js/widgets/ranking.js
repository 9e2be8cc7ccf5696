// Ranking widget: the prompt and the candidates as an ordered list, best first.
// Keys: ArrowUp/ArrowDown (or K/J) select a candidate, Shift+ArrowUp/Down or Alt+ArrowUp/Down
// move the selected candidate, Home/End select the first/last, Shift+Home/End move the
// selected one to the top/bottom. With the mouse: drag a candidate, or its ▲/▼ buttons.
// The answer is complete as soon as it is shown (the order as given). See task.js.
(function () {
  "use strict";
  window.HandloomWidgets = window.HandloomWidgets || {};

  window.HandloomWidgets.ranking = {
    mount: function (container, ctx, api) {
      var D = window.HandloomDom;
      var el = D.el;
      var p = ctx.payload;
      var candidates = p.candidates || [];
      var order = candidates.map(function (_c, i) { return i; });   // original indices, best first
      var selected = 0;                                              // a position in order
      var dragFrom = -1;

      if (p.prompt) {
        container.appendChild(D.section("Prompt", el("div", { cls: "item-text hw-text hw-prompt", text: p.prompt })));
      }
      var more = D.extras(p, ["prompt", "candidates"]);
      if (more) { container.appendChild(more); }

      var headId = D.uid("rank");
      var list = el("ol", { cls: "hw-rank-list", attrs: { "aria-labelledby": headId } });
      var live = el("p", { cls: "sr-only", attrs: { "aria-live": "polite" } });
      container.appendChild(el("div", { cls: "hw-answer" }, [
        el("h2", { cls: "hw-heading", attrs: { id: headId }, text: "Candidates, best first" }),
        el("p", { cls: "hw-hint", text: "Drag a candidate, use its arrow buttons, or select it with ↑/↓ and move it with Shift+↑/↓." }),
        list, live
      ]));

      // One row per original candidate, built once and re-ordered on every move.
      var rows = candidates.map(function (text, index) {
        var pos = el("span", { cls: "hw-rank-pos", attrs: { "aria-hidden": "true" } });
        var up = el("button", { cls: "hw-icon", text: "▲", attrs: { type: "button", tabindex: "-1",
          "aria-label": "Move up", "data-enter": "activate" } });
        var down = el("button", { cls: "hw-icon", text: "▼", attrs: { type: "button", tabindex: "-1",
          "aria-label": "Move down", "data-enter": "activate" } });
        var row = el("li", { cls: "hw-rank-item", attrs: { draggable: "true", tabindex: "-1", "data-index": String(index) } }, [
          pos,
          el("span", { cls: "hw-rank-grip", text: "⠿", attrs: { "aria-hidden": "true" } }),
          el("div", { cls: "item-text hw-text hw-rank-text", text: text }),
          el("span", { cls: "hw-rank-moves" }, [up, down])
        ]);
        row.pos = pos;
        up.addEventListener("click", function (event) { event.stopPropagation(); move(order.indexOf(index), -1); });
        down.addEventListener("click", function (event) { event.stopPropagation(); move(order.indexOf(index), 1); });
        row.addEventListener("click", function () { select(order.indexOf(index), true); });
        row.addEventListener("dragstart", function (event) {
          dragFrom = order.indexOf(index);
          row.classList.add("is-dragging");
          event.dataTransfer.effectAllowed = "move";
          try { event.dataTransfer.setData("text/plain", String(index)); } catch (e) { /* old browsers */ }
        });
        row.addEventListener("dragend", function () {
          dragFrom = -1;
          row.classList.remove("is-dragging");
          clearDropMarks();
        });
        row.addEventListener("dragover", function (event) {
          if (dragFrom < 0) { return; }
          event.preventDefault();
          event.dataTransfer.dropEffect = "move";
          var after = isLowerHalf(row, event);
          clearDropMarks();
          row.classList.add(after ? "is-drop-after" : "is-drop-before");
        });
        row.addEventListener("dragleave", function () {
          row.classList.remove("is-drop-after", "is-drop-before");
        });
        row.addEventListener("drop", function (event) {
          if (dragFrom < 0) { return; }
          event.preventDefault();
          var target = order.indexOf(index) + (isLowerHalf(row, event) ? 1 : 0);
          var from = dragFrom;
          dragFrom = -1;
          clearDropMarks();
          var to = target > from ? target - 1 : target;
          moveTo(from, to);
        });
        return row;
      });

      function isLowerHalf(row, event) {
        var box = row.getBoundingClientRect();
        return event.clientY > box.top + box.height / 2;
      }

      function clearDropMarks() {
        rows.forEach(function (row) { row.classList.remove("is-drop-after", "is-drop-before"); });
      }

      function render(focusSelected) {
        D.clear(list);
        order.forEach(function (index, position) {
          var row = rows[index];
          var isSel = position === selected;
          row.pos.textContent = String(position + 1);
          row.classList.toggle("is-selected", isSel);
          row.setAttribute("tabindex", isSel ? "0" : "-1");
          row.setAttribute("aria-current", isSel ? "true" : "false");
          row.setAttribute("aria-label", "Rank " + (position + 1) + " of " + order.length + ": " + candidates[index]);
          list.appendChild(row);
        });
        if (focusSelected && rows[order[selected]]) { rows[order[selected]].focus(); }
      }

      function select(position, focus) {
        if (position < 0 || position >= order.length) { return false; }
        selected = position;
        render(focus);
        return true;
      }

      function moveTo(from, to) {
        if (from < 0 || to < 0 || from >= order.length || to >= order.length || from === to) { return false; }
        var item = order.splice(from, 1)[0];
        order.splice(to, 0, item);
        selected = to;
        render(true);
        live.textContent = "Moved to rank " + (to + 1) + " of " + order.length + ".";
        api.changed();
        return true;
      }

      function move(from, delta) { return moveTo(from, from + delta); }

      render(false);

      return {
        getAnswer: function () { return order.length >= 2 ? { order: order.slice() } : null; },
        setAnswer: function (answer) {
          var given = (answer && answer.order) || [];
          if (given.length === candidates.length) { order = given.slice(); }
          selected = 0;
          render(false);
          api.changed();
        },
        handleKey: function (event) {
          var key = event.key;
          var moving = event.shiftKey || event.altKey;
          if (key === "ArrowUp" || (key === "k" && !moving)) {
            return moving ? (move(selected, -1), true) : (select(selected - 1, true), true);
          }
          if (key === "ArrowDown" || (key === "j" && !moving)) {
            return moving ? (move(selected, 1), true) : (select(selected + 1, true), true);
          }
          if (key === "Home") { return moving ? (moveTo(selected, 0), true) : (select(0, true), true); }
          if (key === "End") {
            return moving ? (moveTo(selected, order.length - 1), true) : (select(order.length - 1, true), true);
          }
          return false;
        },
        hotkeys: function () {
          return [
            { key: "↑/↓", label: "select a candidate" },
            { key: "Shift+↑/↓", label: "move it" },
            { key: "Shift+Home/End", label: "move it to the top/bottom" }
          ];
        },
        focus: function () { select(selected, true); }
      };
    }
  };
})();
