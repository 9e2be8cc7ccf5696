// Span-labelling widget: the text with the spans marked so far (<mark> elements built from
// text slices), a row of label buttons and the list of spans with a remove button each.
//
// Keyboard: a caret moves over the words of the text (punctuation marks are words of their
// own): ArrowLeft/ArrowRight move it, Shift+ArrowLeft/Right extend the selection by a word,
// Home/End jump to the first/last word (Shift extends). A number key 1..9 gives the selected
// words label n (the same span and label again removes it; in projects without overlap a
// new span replaces the spans it overlaps). Delete or Backspace removes the span under the
// caret, or the span whose row in the list has focus. Mouse: select text (snapped to whole
// words) or click a word, then press a number or click a label button.
//
// Offsets in the answer count Unicode code points, as Python's str does (the browser's
// strings count UTF-16 units; the two differ for emoji and other astral characters).
(function () {
  "use strict";
  window.HandloomWidgets = window.HandloomWidgets || {};

  // Words (letters, marks, digits), and every other visible character on its own, with
  // emoji sequences (variation selectors, zero-width joiners) kept whole.
  var WORD = /[\p{L}\p{M}\p{N}]+|[^\s\p{L}\p{M}\p{N}][\p{M}\ufe0f]*(?:\u200d[^\s\p{L}\p{M}\p{N}][\p{M}\ufe0f]*)*/gu;

  window.HandloomWidgets.spans = {
    mount: function (container, ctx, api) {
      var D = window.HandloomDom;
      var el = D.el;
      var labels = ctx.config.labels || [];
      var allowOverlap = !!ctx.config.allow_overlap;
      var text = typeof ctx.payload.text === "string" ? ctx.payload.text : "";

      // UTF-16 index <-> code point index.
      var toCp = new Array(text.length + 1);
      var fromCp = [];
      (function () {
        var cp = 0;
        for (var i = 0; i < text.length; i += 1) {
          var code = text.charCodeAt(i);
          var low = i > 0 ? text.charCodeAt(i - 1) : 0;
          var isLowSurrogate = code >= 0xdc00 && code <= 0xdfff && low >= 0xd800 && low <= 0xdbff;
          if (!isLowSurrogate) { fromCp[cp] = i; toCp[i] = cp; cp += 1; } else { toCp[i] = cp; }
        }
        toCp[text.length] = cp;
        fromCp[cp] = text.length;
      })();

      var tokens = [];
      var match;
      WORD.lastIndex = 0;
      while ((match = WORD.exec(text)) !== null) {
        tokens.push({ start: match.index, end: match.index + match[0].length });
      }

      var spans = [];             // {start, end, label} in UTF-16 units
      var caret = 0;              // token index
      var anchor = 0;             // token index where the selection started
      var atoms = [];             // {node, start, end}

      var more = D.extras(ctx.payload, ["text"]);

      var hintId = D.uid("spans-hint");
      var textBox = el("div", { cls: "item-text hw-text hw-spans-text", attrs: {
        tabindex: "0", role: "group", "aria-roledescription": "text to label",
        "aria-label": "Text to label", "aria-describedby": hintId } });
      var live = el("p", { cls: "hw-spans-selected", attrs: { "aria-live": "polite" } });
      container.appendChild(D.section("Text", textBox));
      if (more) { container.appendChild(more); }
      container.appendChild(live);
      container.appendChild(el("p", { cls: "hw-hint", attrs: { id: hintId },
        text: "←/→ move over words, Shift+←/→ extend the selection, a number applies that label, Delete removes the span under the caret. Or select text with the mouse." }));

      var labelRow = el("div", { cls: "hw-choices hw-labels", attrs: { role: "group", "aria-label": "Apply a label to the selection" } });
      labels.forEach(function (label, i) {
        var button = el("button", { cls: "hw-choice hw-label-btn hw-lab-" + (i % 8), attrs: {
          type: "button", "data-label": label, "data-enter": "activate" } },
          [i < 9 ? D.kbd(String(i + 1)) : null, el("span", { cls: "hw-choice-text", text: label })]);
        button.addEventListener("mousedown", function (event) { event.preventDefault(); });
        button.addEventListener("click", function () { apply(label); textBox.focus(); });
        labelRow.appendChild(button);
      });
      container.appendChild(el("div", { cls: "hw-answer" }, [
        el("h2", { cls: "hw-heading", text: "Labels" }), labelRow
      ]));

      var listHeadId = D.uid("spans-list");
      var listHead = el("h2", { cls: "hw-heading", attrs: { id: listHeadId } });
      var list = el("ul", { cls: "hw-span-list", attrs: { "aria-labelledby": listHeadId } });
      container.appendChild(el("section", { cls: "hw-section" }, [listHead, list]));

      function labelIndex(label) { return Math.max(0, labels.indexOf(label)); }

      function sorted() {
        return spans.slice().sort(function (a, b) {
          return a.start - b.start || a.end - b.end || labelIndex(a.label) - labelIndex(b.label);
        });
      }

      function selection() {
        if (!tokens.length) { return null; }
        var lo = Math.min(anchor, caret), hi = Math.max(anchor, caret);
        return { start: tokens[lo].start, end: tokens[hi].end };
      }

      // ------------------------------------------------------------ rendering
      function renderText() {
        D.clear(textBox);
        atoms = [];
        var cuts = {};
        cuts[0] = true;
        cuts[text.length] = true;
        tokens.forEach(function (t) { cuts[t.start] = true; cuts[t.end] = true; });
        spans.forEach(function (s) { cuts[s.start] = true; cuts[s.end] = true; });
        var points = Object.keys(cuts).map(Number).sort(function (a, b) { return a - b; });
        var ordered = sorted();
        var group = null, groupKey = "";
        for (var k = 0; k + 1 < points.length; k += 1) {
          var a = points[k], b = points[k + 1];
          var cover = [];
          ordered.forEach(function (s, i) { if (s.start <= a && b <= s.end) { cover.push(i); } });
          var key = cover.join(",");
          var atom = el("span", { cls: "hw-atom", text: text.slice(a, b), attrs: { "data-s": String(a) } });
          atoms.push({ node: atom, start: a, end: b });
          if (!cover.length) {
            group = null;
            groupKey = "";
            textBox.appendChild(atom);
          } else {
            if (!group || key !== groupKey) {
              var top = ordered[cover[cover.length - 1]];
              group = el("mark", { cls: "hw-mark hw-lab-" + (labelIndex(top.label) % 8) +
                (cover.length > 1 ? " is-overlap" : "") });
              groupKey = key;
              textBox.appendChild(group);
            }
            group.appendChild(atom);
          }
          // Label tags after the last piece of each span that ends here.
          ordered.forEach(function (s) {
            if (s.end === b && s.start < b) {
              var tag = el("span", { cls: "hw-span-tag hw-lab-" + (labelIndex(s.label) % 8), text: s.label,
                attrs: { "data-skip": "1" } });
              (group || textBox).appendChild(tag);
            }
          });
        }
        renderSelection();
      }

      function renderSelection() {
        var sel = selection();
        var c = tokens[caret];
        atoms.forEach(function (atom) {
          var inSel = !!sel && atom.start >= sel.start && atom.end <= sel.end;
          atom.node.classList.toggle("is-sel", inSel);
          atom.node.classList.toggle("is-caret", !!c && atom.start >= c.start && atom.end <= c.end);
        });
        live.textContent = sel ? "Selected: “" + text.slice(sel.start, sel.end) + "”" : "The text is empty.";
      }

      function renderList() {
        D.clear(list);
        var ordered = sorted();
        listHead.textContent = ordered.length ? "Spans (" + ordered.length + ")" : "Spans (none yet — an empty list is a valid answer)";
        ordered.forEach(function (s) {
          var piece = text.slice(s.start, s.end);
          var remove = el("button", { cls: "hw-icon hw-remove", text: "✕ Remove", attrs: {
            type: "button", "data-enter": "activate", "aria-label": "Remove " + s.label + " “" + piece + "”" } });
          remove.addEventListener("click", function () { removeSpan(s, true); });
          var item = el("li", { cls: "hw-span-item" }, [
            el("span", { cls: "hw-span-tag hw-lab-" + (labelIndex(s.label) % 8), text: s.label }),
            el("span", { cls: "hw-span-piece", text: "“" + piece + "”" }),
            el("span", { cls: "hw-span-where muted", text: toCp[s.start] + "–" + toCp[s.end] }),
            remove
          ]);
          item.span = s;
          list.appendChild(item);
        });
      }

      function render() { renderText(); renderList(); }

      // ------------------------------------------------------------ editing
      function apply(label) {
        var sel = selection();
        if (!sel || labels.indexOf(label) < 0) { return false; }
        var same = spans.filter(function (s) { return s.start === sel.start && s.end === sel.end && s.label === label; });
        if (same.length) {
          spans = spans.filter(function (s) { return same.indexOf(s) < 0; });
          render();
          live.textContent = "Removed " + label + " “" + text.slice(sel.start, sel.end) + "”.";
          api.changed();
          return true;
        }
        if (!allowOverlap) {
          spans = spans.filter(function (s) { return !(s.start < sel.end && sel.start < s.end); });
        }
        spans.push({ start: sel.start, end: sel.end, label: label });
        var next = Math.min(Math.max(anchor, caret) + 1, tokens.length - 1);
        caret = anchor = next;
        clearNativeSelection();
        render();
        live.textContent = "Marked “" + text.slice(sel.start, sel.end) + "” as " + label + ".";
        api.changed();
        return true;
      }

      function removeSpan(span, focusList) {
        var at = sorted().indexOf(span);
        spans = spans.filter(function (s) { return s !== span; });
        render();
        live.textContent = "Removed " + span.label + " “" + text.slice(span.start, span.end) + "”.";
        api.changed();
        if (focusList) {
          var buttons = list.querySelectorAll("button");
          if (buttons.length) { buttons[Math.min(at, buttons.length - 1)].focus(); } else { textBox.focus(); }
        }
      }

      function clearNativeSelection() {
        var s = window.getSelection ? window.getSelection() : null;
        if (s && s.rangeCount) { s.removeAllRanges(); }
      }

      function moveCaret(to, extend) {
        if (!tokens.length) { return; }
        caret = Math.max(0, Math.min(tokens.length - 1, to));
        if (!extend) { anchor = caret; }
        clearNativeSelection();
        renderSelection();
        var atom = atoms.filter(function (a) { return a.start === tokens[caret].start; })[0];
        if (atom && atom.node.scrollIntoView) { atom.node.scrollIntoView({ block: "nearest" }); }
      }

      function tokenAt(offset, preferEnd) {
        // The token containing offset; between tokens, the next one (or the previous one
        // when preferEnd, for the end of a selection).
        for (var i = 0; i < tokens.length; i += 1) {
          var t = tokens[i];
          if (preferEnd ? (offset > t.start && offset <= t.end) : (offset >= t.start && offset < t.end)) { return i; }
          if (t.start >= offset) { return preferEnd ? Math.max(0, i - 1) : i; }
        }
        return tokens.length - 1;
      }

      // A DOM point inside the text box as a UTF-16 offset into the text.
      function pointOffset(node, offset) {
        if (node.nodeType === 3 && node.parentNode && node.parentNode.classList &&
            node.parentNode.classList.contains("hw-atom")) {
          return parseInt(node.parentNode.getAttribute("data-s"), 10) + Math.min(offset, node.length);
        }
        var point = document.createRange();
        point.setStart(node, offset);
        for (var i = 0; i < atoms.length; i += 1) {
          if (point.comparePoint(atoms[i].node, 0) >= 0) { return atoms[i].start; }
        }
        return text.length;
      }

      textBox.addEventListener("mouseup", function () {
        var s = window.getSelection();
        if (!s || !s.rangeCount || !tokens.length) { return; }
        var range = s.getRangeAt(0);
        if (!textBox.contains(range.startContainer) || !textBox.contains(range.endContainer)) { return; }
        var a = pointOffset(range.startContainer, range.startOffset);
        var b = pointOffset(range.endContainer, range.endOffset);
        if (range.collapsed || a === b) {
          caret = anchor = tokenAt(a, false);
        } else {
          var lo = tokenAt(a, false), hi = tokenAt(b, true);
          if (hi < lo) { return; }
          anchor = lo;
          caret = hi;
        }
        renderSelection();
        textBox.focus({ preventScroll: true });
      });

      render();

      return {
        getAnswer: function () {
          return { spans: sorted().map(function (s) {
            return { start: toCp[s.start], end: toCp[s.end], label: s.label };
          }) };
        },
        setAnswer: function (answer) {
          spans = ((answer && answer.spans) || []).map(function (s) {
            return { start: fromCp[s.start], end: fromCp[s.end], label: s.label };
          }).filter(function (s) { return s.start !== undefined && s.end !== undefined; });
          caret = anchor = 0;
          render();
          api.changed();
        },
        handleKey: function (event) {
          var key = event.key;
          if (event.altKey) { return false; }
          var active = document.activeElement;
          if (key === "Delete" || key === "Backspace") {
            var row = active && active.closest ? active.closest(".hw-span-item") : null;
            if (row && row.span) { removeSpan(row.span, true); return true; }
            var c = tokens[caret];
            if (!c) { return false; }
            var under = spans.filter(function (s) { return s.start < c.end && c.start < s.end; });
            if (!under.length) { return false; }
            removeSpan(under[under.length - 1], false);
            return true;
          }
          if (key === "ArrowRight") { moveCaret(caret + 1, event.shiftKey); textBox.focus(); return true; }
          if (key === "ArrowLeft") { moveCaret(caret - 1, event.shiftKey); textBox.focus(); return true; }
          if (key === "Home") { moveCaret(0, event.shiftKey); textBox.focus(); return true; }
          if (key === "End") { moveCaret(tokens.length - 1, event.shiftKey); textBox.focus(); return true; }
          if (event.shiftKey) { return false; }
          var digit = D.digitOf(event);
          if (digit >= 1 && digit <= Math.min(9, labels.length)) { return apply(labels[digit - 1]); }
          return false;
        },
        hotkeys: function () {
          var n = Math.min(9, labels.length);
          return [
            { key: "←/→", label: "move over words" },
            { key: "Shift+←/→", label: "extend the selection" },
            { key: n > 1 ? "1–" + n : "1", label: "apply a label" },
            { key: "Delete", label: "remove the span under the caret" }
          ];
        },
        focus: function () { textBox.focus(); }
      };
    }
  };
})();
