// The task screen: leases items, mounts the task kind's widget, submits answers.
//
// No inline scripts or styles (see security.py's Content-Security-Policy), no eval, and no
// HTML parsing: every element is made with document.createElement and filled with
// textContent, because item text is hostile by nature.
//
// ------------------------------------------------------------------ widget contract
// Each file static/js/widgets/<name>.js (name = the kind's `widget` attribute in
// handloom/kinds/*.py) registers itself:
//
//   window.HandloomWidgets = window.HandloomWidgets || {};
//   window.HandloomWidgets[name] = {
//     mount: function (container, ctx, api) { ...; return controller; }
//   };
//
//   container  an empty <div class="hw hw-NAME"> inside #item-area; the widget renders the
//              item itself (text, panes, candidates …) and its answer controls into it.
//   ctx        { config:      the kind's configuration (project.config in #task-config),
//                payload:     the item payload (untrusted: show it with textContent only),
//                sensitivity: the item's content-category tags (list of strings),
//                itemId:      the item's external id }
//   api        { changed: function () {}   call whenever the answer may have become
//                                          complete or incomplete (task.js then enables or
//                                          disables Submit) }
//
//   controller {
//     getAnswer: function () -> the answer object the kind validates, or null while the
//                answer is incomplete,
//     setAnswer: function (answer) -> show a previously submitted answer (Ctrl+Z undo),
//     handleKey: function (event) -> true when the widget used the key (task.js then calls
//                preventDefault). It is not called while focus is in a text field, select
//                or contenteditable (typing goes there), nor for keys the screen reserves:
//                Shift+S, Shift+U, I and Ctrl/Cmd combinations,
//     hotkeys:   function () -> [{key: "1", label: "toxic"}, ...] for the legend,
//     focus:     function () -> put keyboard focus where work starts
//   }
//
// Widgets may use window.HandloomDom (defined below; available when mount is called):
//   el(tag, props, children)   props: {cls, text, attrs: {name: value}, on: {event: fn}};
//                              event-handler, style and URL attributes are refused
//   clear(node), kbd(text), uid(prefix), digitOf(event), isTextField(node),
//   extras(payload, knownKeys) a <dl> of the payload's other fields (shown with the item)
//   section(title, child), labelled text blocks
//
// Keyboard on the task screen (the widget adds its own keys, see hotkeys()):
//   Enter submits when the answer is complete (Ctrl+Enter when focus is in a text field),
//   Escape leaves a text field (or cancels changing a previous answer), Shift+S skip,
//   Shift+U "this is unclear", Ctrl+Z reopen the last submitted answer, I instructions.
(function () {
  "use strict";

  window.HandloomWidgets = window.HandloomWidgets || {};

  // ------------------------------------------------------------------ DOM helpers
  var UNSAFE_ATTR = /^(on|style$|href$|src$|srcset$|srcdoc$|action$|formaction$|xlink:href$|background$|poster$|data$)/i;

  function el(tag, props, children) {
    var node = document.createElement(tag);
    props = props || {};
    if (props.cls) { node.className = props.cls; }
    if (props.text !== undefined && props.text !== null) { node.textContent = String(props.text); }
    var attrs = props.attrs || {};
    Object.keys(attrs).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) { return; }
      if (UNSAFE_ATTR.test(name)) { throw new Error("refusing unsafe attribute " + name); }
      node.setAttribute(name, value === true ? "" : String(value));
    });
    var on = props.on || {};
    Object.keys(on).forEach(function (event) { node.addEventListener(event, on[event]); });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined || child === false) { return; }
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }

  function kbd(text) { return el("kbd", { text: text }); }

  var uidCounter = 0;
  function uid(prefix) { uidCounter += 1; return (prefix || "hw") + "-" + uidCounter; }

  // The digit of a key press, from the physical key so that Shift+1 (which types "!") still
  // reads as 1, and AZERTY keyboards work; -1 for other keys.
  function digitOf(event) {
    var m = /^(?:Digit|Numpad)([0-9])$/.exec(event.code || "");
    if (m) { return parseInt(m[1], 10); }
    if (/^[0-9]$/.test(event.key || "")) { return parseInt(event.key, 10); }
    return -1;
  }

  var TEXT_INPUTS = /^(text|search|email|url|tel|password|number|date|time|datetime-local|month|week)$/;
  function isTextField(node) {
    if (!node || !node.tagName) { return false; }
    var tag = node.tagName.toLowerCase();
    if (tag === "textarea" || tag === "select") { return true; }
    if (tag === "input") { return TEXT_INPUTS.test((node.getAttribute("type") || "text").toLowerCase()); }
    return !!node.isContentEditable;
  }

  function extras(payload, known) {
    var keys = Object.keys(payload || {}).filter(function (k) { return known.indexOf(k) < 0; });
    if (!keys.length) { return null; }
    var dl = el("dl", { cls: "hw-extras", attrs: { "aria-label": "More about this item" } });
    keys.forEach(function (key) {
      var value = payload[key];
      var shown = typeof value === "string" ? value : JSON.stringify(value);
      dl.appendChild(el("dt", { text: key }));
      dl.appendChild(el("dd", { text: shown }));
    });
    return dl;
  }

  function section(title, child, cls) {
    var id = uid("hw-sec");
    return el("section", { cls: "hw-section" + (cls ? " " + cls : ""), attrs: { "aria-labelledby": id } }, [
      el("h2", { cls: "hw-heading", text: title, attrs: { id: id } }), child
    ]);
  }

  window.HandloomDom = {
    el: el, clear: clear, kbd: kbd, uid: uid, digitOf: digitOf, isTextField: isTextField,
    extras: extras, section: section
  };

  // ------------------------------------------------------------------ the task screen
  function randomKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b < 16 ? "0" : "") + b.toString(16); }).join("");
  }

  function sleep(ms) { return new Promise(function (resolve) { window.setTimeout(resolve, ms); }); }

  function isNetworkError(error) { return !error || error.status === undefined; }

  function fill(url, id) { return url.replace("{id}", encodeURIComponent(String(id))); }

  function start() {
    var source = document.getElementById("task-config");
    if (!source) { return; }
    var config = JSON.parse(source.textContent);
    var project = config.project;
    var endpoints = config.endpoints;
    var widget = window.HandloomWidgets[project.widget];

    var layout = document.querySelector(".task-layout");
    var statusEl = document.getElementById("task-status");
    var area = document.getElementById("item-area");
    var btnSubmit = document.getElementById("btn-submit");
    var btnSkip = document.getElementById("btn-skip");
    var btnUnclear = document.getElementById("btn-unclear");
    var btnUndo = document.getElementById("btn-undo");
    var btnInstr = document.getElementById("btn-instructions");
    var unclearForm = document.getElementById("unclear-form");
    var unclearNote = document.getElementById("unclear-note");
    var unclearCancel = document.getElementById("unclear-cancel");
    var skipForm = document.getElementById("skip-form");
    var skipReason = document.getElementById("skip-reason");
    var skipCancel = document.getElementById("skip-cancel");
    var hotkeysEl = document.getElementById("hotkeys");
    var qualBanner = document.getElementById("qual-banner");

    var state = {
      mode: "loading",      // loading | cover | answering | amending | feedback | empty | error
      busy: false,
      lease: null,          // the lease on screen (or held, while amending)
      controller: null,
      submitted: 0,         // answers submitted on this page
      last: null,           // {assignmentId, item, answer, expiresAt}: what Ctrl+Z reopens
      notice: "",           // a message to keep in front of the status line (errors)
      keys: {},             // assignment id -> idempotency key (reused on retries)
      seconds: {},          // assignment id -> active seconds so far
      revealed: {},         // assignment id -> true once its content warning was passed
      shown: {},            // assignment ids shown on this page (the item counter)
      returnFocus: null
    };

    // ---------------------------------------------------------------- active time
    var IDLE_AFTER_MS = 30000;
    var lastInput = Date.now();
    var lastTick = Date.now();
    var readSeconds = 0;
    var instructionsOpen = !(layout && layout.classList.contains("instructions-hidden"));

    function markInput() { lastInput = Date.now(); }
    ["keydown", "pointerdown", "pointermove", "wheel", "scroll", "input", "touchstart"].forEach(function (name) {
      window.addEventListener(name, markInput, { passive: true, capture: true });
    });

    function isActive(now) {
      return document.visibilityState === "visible" && now - lastInput <= IDLE_AFTER_MS;
    }

    window.setInterval(function () {
      var now = Date.now();
      var delta = Math.min(now - lastTick, 5000) / 1000;
      lastTick = now;
      if (!isActive(now) || delta <= 0) { return; }
      if (state.lease && (state.mode === "answering" || state.mode === "cover")) {
        var id = state.lease.assignment_id;
        state.seconds[id] = (state.seconds[id] || 0) + delta;
      }
      if (instructionsOpen) { readSeconds += delta; }
    }, 1000);

    // Instruction reading time goes to the server when the panel closes, every minute, and
    // when the page goes away (fetch keepalive: sendBeacon cannot carry the CSRF header).
    function flushReading(keepalive) {
      var seconds = Math.round(readSeconds * 10) / 10;
      if (seconds < 1) { return; }
      readSeconds = 0;
      var body = JSON.stringify({ version: config.instructions.version, seconds: Math.min(seconds, 14400) });
      if (keepalive) {
        try {
          fetch(endpoints.read, {
            method: "POST", credentials: "same-origin", keepalive: true, body: body,
            headers: { "Content-Type": "application/json", "X-CSRF-Token": window.Handloom.csrf() }
          }).catch(function () { /* the page is going away */ });
        } catch (e) { /* ignore */ }
        return;
      }
      window.Handloom.postJSON(endpoints.read, JSON.parse(body)).catch(function () {
        readSeconds += seconds;   // try again with the next flush
      });
    }
    window.setInterval(function () { flushReading(false); }, 60000);
    window.addEventListener("pagehide", function () { flushReading(true); });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") { flushReading(true); }
    });

    // ---------------------------------------------------------------- status line
    function setStatus(text, isError) {
      var parts = [];
      if (state.notice) { parts.push(state.notice); }
      if (text) { parts.push(text); }
      statusEl.textContent = parts.join(" ");
      statusEl.classList.toggle("is-error", !!(isError || state.notice));
    }

    function itemStatus() {
      var lease = state.lease;
      var seen = Object.keys(state.shown).length;
      var bits = ["Item " + seen + " on this page", state.submitted + " submitted", "id " + lease.item.id];
      if (lease.resumed) { bits.push("resumed"); }
      var until = Date.parse(lease.expires_at);
      if (!isNaN(until)) {
        bits.push("held until " + new Date(until).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }));
      }
      return bits.join(" · ") + ".";
    }

    // ---------------------------------------------------------------- buttons and legend
    function setSubmitLabel(text) {
      clear(btnSubmit);
      btnSubmit.appendChild(document.createTextNode(text + " "));
      btnSubmit.appendChild(kbd("Enter"));
    }

    function answerReady() {
      if (!state.controller || (state.mode !== "answering" && state.mode !== "amending")) { return null; }
      try { return state.controller.getAnswer(); } catch (e) { reportBug(e); return null; }
    }

    function canUndo() {
      if (!state.last || state.busy || state.mode === "amending" || state.mode === "loading") { return false; }
      var until = Date.parse(state.last.expiresAt);
      return isNaN(until) || until > Date.now();
    }

    function refresh() {
      btnSubmit.disabled = state.busy || answerReady() === null;
      btnSkip.disabled = state.busy || !(state.lease && (state.mode === "answering" || state.mode === "cover"));
      btnUnclear.disabled = false;
      btnUndo.disabled = !canUndo();
      renderHotkeys();
    }

    function renderHotkeys() {
      clear(hotkeysEl);
      var keys = [];
      if (state.mode === "cover") {
        keys.push({ key: "R", label: "reveal" });
      }
      if (state.mode === "feedback") {
        keys.push({ key: "Enter", label: "continue" });
      }
      if (state.controller && (state.mode === "answering" || state.mode === "amending")) {
        try { keys = keys.concat(state.controller.hotkeys() || []); } catch (e) { reportBug(e); }
        keys.push({ key: "Enter", label: state.mode === "amending" ? "save the change" : "submit" });
        if (area.querySelector("textarea, select, input[type=text]")) {
          keys.push({ key: "Ctrl+Enter", label: "submit from a text field" });
          keys.push({ key: "Esc", label: "leave a text field" });
        }
        if (state.mode === "amending") { keys.push({ key: "Esc", label: "cancel the change" }); }
      }
      if (state.mode === "answering" || state.mode === "cover") { keys.push({ key: "Shift+S", label: "skip" }); }
      keys.push({ key: "Shift+U", label: "unclear" });
      if (canUndo()) { keys.push({ key: "Ctrl+Z", label: "change the last answer" }); }
      keys.push({ key: "I", label: "instructions" });
      keys.forEach(function (k, i) {
        var item = el("span", { cls: "hotkey" }, [kbd(k.key), " " + k.label]);
        hotkeysEl.appendChild(item);
        if (i < keys.length - 1) { hotkeysEl.appendChild(document.createTextNode(" · ")); }
      });
    }

    function reportBug(error) {
      if (window.console) { window.console.error(error); }
    }

    // ---------------------------------------------------------------- showing items
    function unmount() {
      state.controller = null;
      area.classList.remove("is-amending");
      clear(area);
    }

    function focusWork() {
      if (state.controller) {
        try { state.controller.focus(); return; } catch (e) { reportBug(e); }
      }
      area.focus();
    }

    // ---------------------------------------------------------------- qualification test
    // The banner over the item while a test question is on screen, and the feedback shown
    // after each test answer (the right answer and the progress; the result at the end).
    // The worker moves on with Continue (or Enter): feedback never disappears by itself.
    function setBanner(qualification) {
      if (!qualBanner) { return; }
      if (qualification) {
        qualBanner.textContent = "Qualification test — question " + qualification.question +
          " of " + qualification.of;
        qualBanner.hidden = false;
      } else {
        qualBanner.textContent = "";
        qualBanner.hidden = true;
      }
    }

    function percent(share) { return Math.round(Number(share) * 100) + "%"; }

    function showFeedback(feedback) {
      state.mode = "feedback";
      state.lease = null;
      unmount();
      var test = feedback.qualification || {};
      var titleId = uid("feedback");
      var children = [
        el("h2", { cls: "hw-heading " + (feedback.correct ? "fb-correct" : "fb-wrong"), attrs: { id: titleId } }, [
          el("span", { text: feedback.correct ? "✓" : "✗", attrs: { "aria-hidden": "true" } }),
          " " + (feedback.correct ? "Correct" : "Not the expected answer")
        ])
      ];
      if (!feedback.correct) {
        children.push(el("p", { cls: "fb-expected" }, [
          "The expected answer was ", el("strong", { text: feedback.expected_summary || "" }), "."
        ]));
      }
      if (test.size) {
        children.push(el("p", { cls: "fb-progress", text: "Test progress: " + test.answered + " of " +
          test.size + " questions answered, " + test.correct + " correct." }));
      }
      var done = test.passed === true || test.passed === false;
      if (test.passed === true) {
        children.push(el("p", { cls: "fb-result fb-passed", text: "You passed the qualification test: " +
          test.correct + " of " + test.answered + " correct (the pass mark is " + percent(test.pass_mark) +
          "). Real items come next." }));
      } else if (test.passed === false) {
        children.push(el("p", { cls: "fb-result fb-failed", text: "You did not pass the qualification test: " +
          test.correct + " of " + test.answered + " correct (the pass mark is " + percent(test.pass_mark) +
          "). This project has no further work for you; if you think a question was scored wrongly, " +
          "tell the project team (Shift+U)." }));
      }
      var button;
      if (test.passed === false) {
        button = el("a", { cls: "button primary", text: "Back to your projects", attrs: { id: "btn-continue" } });
        button.href = "/";   // a fixed, same-origin path (not from item data)
      } else {
        button = el("button", { cls: "primary", attrs: { type: "button", id: "btn-continue" } },
          ["Continue ", kbd("Enter")]);
        button.addEventListener("click", continueAfterFeedback);
      }
      children.push(el("p", {}, [button]));
      area.appendChild(el("div", { cls: "qual-feedback" + (feedback.correct ? " is-correct" : " is-wrong"),
        attrs: { role: "group", "aria-labelledby": titleId } }, children));
      setStatus((feedback.correct ? "Correct." : "Not the expected answer.") +
        (done ? (test.passed ? " Test passed." : " Test not passed.") : " Continue when you are ready."));
      refresh();
      button.focus();
    }

    function continueAfterFeedback() {
      if (state.mode !== "feedback" || state.busy) { return; }
      var link = document.getElementById("btn-continue");
      if (link && link.tagName.toLowerCase() === "a") { window.location.assign("/"); return; }
      loadNext();
    }

    function showEmpty(reason) {
      state.mode = "empty";
      state.lease = null;
      unmount();
      area.appendChild(el("div", { cls: "hw-empty" }, [
        el("p", { text: reason || "No item is waiting for you in this project right now." }),
        el("p", {}, [el("a", { text: "Back to your projects", attrs: { "class": "button" } })])
      ]));
      // href is a fixed, same-origin path (set here, not from item data).
      area.querySelector("a").href = "/";
      setStatus("Nothing to do here right now.");
      refresh();
      area.querySelector("a").focus();
    }

    function showLease(lease) {
      state.lease = lease;
      setBanner(lease.qualification);
      var id = lease.assignment_id;
      state.shown[id] = true;
      if (!state.keys[id]) { state.keys[id] = randomKey(); }
      if (state.seconds[id] === undefined) { state.seconds[id] = 0; }
      markInput();
      var tags = lease.item.sensitivity || [];
      if (tags.length && project.blur_sensitive && !state.revealed[id]) {
        showCover(tags);
      } else {
        mountItem(lease.item, "answering");
      }
    }

    function showCover(tags) {
      state.mode = "cover";
      unmount();
      var reveal = el("button", { cls: "primary", attrs: { type: "button", id: "btn-reveal" } },
        ["Reveal ", kbd("R")]);
      reveal.addEventListener("click", revealItem);
      var titleId = uid("cover");
      area.appendChild(el("div", { cls: "sensitive-cover", attrs: { role: "group", "aria-labelledby": titleId } }, [
        el("h2", { cls: "hw-heading", text: "Content warning", attrs: { id: titleId } }),
        el("p", { text: "This item is marked as possibly containing: " + tags.join(", ") + "." }),
        el("p", { text: "It stays hidden until you choose to show it. You can skip it instead (Shift+S)." }),
        reveal
      ]));
      setStatus(itemStatus());
      refresh();
      reveal.focus();
    }

    function revealItem() {
      if (state.mode !== "cover" || !state.lease) { return; }
      state.revealed[state.lease.assignment_id] = true;
      mountItem(state.lease.item, "answering");
    }

    function mountItem(item, mode) {
      unmount();
      state.mode = mode;
      area.classList.toggle("is-amending", mode === "amending");
      if (!widget) {
        area.appendChild(el("p", { cls: "error", text: "This screen has no widget for " + project.widget + "." }));
        refresh();
        return;
      }
      var container = el("div", { cls: "hw hw-" + project.widget });
      area.appendChild(container);
      var ctx = {
        config: project.config || {},
        payload: item.payload || {},
        sensitivity: item.sensitivity || [],
        itemId: item.id
      };
      try {
        state.controller = widget.mount(container, ctx, { changed: refresh });
      } catch (e) {
        reportBug(e);
        container.appendChild(el("p", { cls: "error", text: "This item could not be shown: " + e.message }));
        state.controller = null;
      }
      if (mode === "answering") { setStatus(itemStatus()); }
      refresh();
      focusWork();
    }

    // ---------------------------------------------------------------- server calls
    // POST with retries on network failures (the same body, so the same idempotency key);
    // server errors are thrown to the caller at once.
    function post(url, body, what) {
      var attempt = 0;
      function once() {
        return window.Handloom.postJSON(url, body).catch(function (error) {
          if (!isNetworkError(error) || attempt >= 6) { throw error; }
          attempt += 1;
          var wait = Math.min(1000 * Math.pow(2, attempt - 1), 15000);
          setStatus("Cannot reach the server (" + what + "); trying again in " + Math.round(wait / 1000) + " s…", true);
          return sleep(wait).then(once);
        });
      }
      return once();
    }

    function loadNext() {
      state.mode = "loading";
      state.busy = true;
      refresh();
      setStatus("Loading the next item…");
      return post(endpoints.next, {}, "next item").then(function (data) {
        state.busy = false;
        if (!data.assignment) { setBanner(null); showEmpty(data.reason); exposureEmpty(data.reason); return; }
        showLease(data.assignment);
      }).catch(function (error) {
        state.busy = false;
        state.mode = "error";
        state.lease = null;
        setBanner(null);
        unmount();
        var retry = el("button", { attrs: { type: "button" } }, ["Try again"]);
        retry.addEventListener("click", function () { state.notice = ""; loadNext(); });
        area.appendChild(el("div", { cls: "hw-empty" }, [
          el("p", { text: error.message || "The next item could not be loaded." }), retry
        ]));
        setStatus(error.message || "The next item could not be loaded.", true);
        refresh();
        retry.focus();
      });
    }

    function submit() {
      if (state.busy) { return; }
      var answer = answerReady();
      if (answer === null) {
        if (state.mode === "answering" || state.mode === "amending") {
          setStatus("The answer is not complete yet.", true);
        }
        return;
      }
      if (state.mode === "amending") { amend(answer); return; }
      var lease = state.lease;
      var id = lease.assignment_id;
      var body = {
        answer: answer,
        idempotency_key: state.keys[id],
        active_seconds: Math.round((state.seconds[id] || 0) * 10) / 10
      };
      state.busy = true;
      refresh();
      setStatus("Submitting…");
      post(fill(endpoints.submit, id), body, "submit").then(function (result) {
        state.busy = false;
        state.submitted += 1;
        state.notice = "";
        delete state.keys[id];
        delete state.seconds[id];
        exposureSeen(lease.item);
        if (result && result.feedback) {
          // A test answer: it is scored at once and cannot be changed afterwards.
          state.last = null;
          showFeedback(result.feedback);
          return null;
        }
        state.last = { assignmentId: id, item: lease.item, answer: answer, expiresAt: lease.expires_at };
        return loadNext();
      }).catch(function (error) { serverError(error, "submit"); });
    }

    // A 422 means the answer itself was refused: keep the item so it can be fixed. Any other
    // error (lease expired, item gone, …) is shown and the next item is fetched.
    function serverError(error, what) {
      state.busy = false;
      var message = error.message || ("Could not " + what + ".");
      if (error.status === 422) {
        state.notice = "";
        setStatus(message, true);
        refresh();
        return;
      }
      if (isNetworkError(error)) {
        setStatus(message + " Press Enter to try again.", true);
        refresh();
        return;
      }
      state.notice = message + " —";
      if (state.mode === "amending") { state.mode = "answering"; }
      loadNext();
    }

    function skip(reason) {
      if (state.busy || !state.lease || (state.mode !== "answering" && state.mode !== "cover")) { return; }
      var id = state.lease.assignment_id;
      var skippedItem = state.lease.item;
      state.busy = true;
      refresh();
      setStatus("Skipping…");
      // The time spent on the item before skipping it is work too (recorded as skipped time).
      var spent = Math.round((state.seconds[id] || 0) * 10) / 10;
      post(fill(endpoints.skip, id), { reason: reason || "", active_seconds: Math.min(spent, 14400) }, "skip").then(function () {
        state.busy = false;
        state.notice = "";
        delete state.keys[id];
        delete state.seconds[id];
        exposureSeen(skippedItem);   // a skipped sensitive item was seen all the same
        return loadNext();
      }).catch(function (error) { serverError(error, "skip"); });
    }

    // ---------------------------------------------------------------- undo (amend)
    function undo() {
      if (!canUndo()) { return; }
      var last = state.last;
      state.notice = "";
      closeForms();
      mountItem(last.item, "amending");
      try { state.controller && state.controller.setAnswer(last.answer); } catch (e) { reportBug(e); }
      setSubmitLabel("Save change");
      setStatus("Changing your answer to item " + last.item.id + ". Enter saves the change; Escape goes back" +
        (state.lease ? " to the item you were on." : "."));
      refresh();
      focusWork();
    }

    function amend(answer) {
      var last = state.last;
      state.busy = true;
      refresh();
      setStatus("Saving the change…");
      post(fill(endpoints.amend, last.assignmentId), { answer: answer }, "change").then(function () {
        state.busy = false;
        last.answer = answer;
        state.notice = "Changed your answer to item " + last.item.id + ".";
        leaveAmend();
      }).catch(function (error) {
        state.busy = false;
        if (error.status === 422 || isNetworkError(error)) { serverError(error, "save the change"); return; }
        state.notice = (error.message || "Could not change the answer.") + " —";
        state.last = null;
        leaveAmend();
      });
    }

    // Back to the item held before Ctrl+Z: ask the server again, which hands back the lease
    // still held (or the next item, if it ran out meanwhile).
    function leaveAmend() {
      setSubmitLabel("Submit");
      state.mode = "loading";
      loadNext();
    }

    function cancelAmend() {
      if (state.mode !== "amending" || state.busy) { return; }
      state.notice = "";
      leaveAmend();
    }

    // ---------------------------------------------------------------- forms
    function openUnclear() {
      if (!unclearForm) { return; }
      if (!unclearForm.hidden) { unclearNote.focus(); return; }
      closeSkip(false);
      state.returnFocus = document.activeElement;
      unclearForm.hidden = false;
      unclearNote.focus();
    }

    function restoreFocus() {
      var target = state.returnFocus;
      state.returnFocus = null;
      if (target && target !== document.body && document.contains(target) && !target.disabled) {
        target.focus();
      } else {
        focusWork();
      }
    }

    function closeUnclear(returnFocus) {
      if (!unclearForm || unclearForm.hidden) { return; }
      unclearForm.hidden = true;
      if (returnFocus !== false) { restoreFocus(); }
    }

    function sendUnclear(event) {
      event.preventDefault();
      var note = unclearNote.value.trim();
      if (!note) { unclearNote.focus(); setStatus("Say in a few words what is unclear.", true); return; }
      var checked = unclearForm.querySelector('input[name="unclear-kind"]:checked');
      var body = { kind: checked ? checked.value : "unclear", note: note };
      var item = state.mode === "amending" && state.last ? state.last.item : (state.lease ? state.lease.item : null);
      if (item) { body.item_id = item.id; }
      var send = unclearForm.querySelector('button[type="submit"]');
      send.disabled = true;
      post(endpoints.flag, body, "flag").then(function () {
        send.disabled = false;
        unclearNote.value = "";
        closeUnclear();
        var thanks = "Thanks — your note went to the project team.";
        setStatus(state.lease && state.mode === "answering" ? thanks + " " + itemStatus() : thanks);
      }).catch(function (error) {
        send.disabled = false;
        setStatus(error.message || "The note could not be sent.", true);
        unclearNote.focus();
      });
    }

    function openSkip() {
      if (!state.lease || state.busy || (state.mode !== "answering" && state.mode !== "cover")) { return; }
      if (!skipForm) { skip(""); return; }
      if (!skipForm.hidden) { skipReason.focus(); return; }
      closeUnclear(false);
      state.returnFocus = document.activeElement;
      skipForm.hidden = false;
      skipReason.focus();
    }

    function closeSkip(returnFocus) {
      if (!skipForm || skipForm.hidden) { return; }
      skipForm.hidden = true;
      if (returnFocus !== false) { restoreFocus(); }
    }

    function closeForms() { closeUnclear(false); closeSkip(false); }

    // ---------------------------------------------------------------- instructions panel
    function setInstructions(open) {
      if (!layout || !btnInstr) { return; }
      if (!open && instructionsOpen) { flushReading(false); }
      instructionsOpen = open;
      layout.classList.toggle("instructions-hidden", !open);
      btnInstr.setAttribute("aria-expanded", open ? "true" : "false");
      clear(btnInstr);
      btnInstr.appendChild(document.createTextNode((open ? "Hide" : "Show") + " "));
      btnInstr.appendChild(kbd("I"));
      try { window.localStorage.setItem("handloom-instructions", open ? "open" : "hidden"); } catch (e) { /* ignore */ }
    }

    // ---------------------------------------------------------------- keyboard
    function inside(node, container) { return !!(container && node && container.contains(node)); }

    function onKey(event) {
      if (event.defaultPrevented || event.isComposing) { return; }
      var target = event.target;
      var inField = isTextField(target);
      var key = event.key;
      var ctrl = event.ctrlKey || event.metaKey;

      // Inside the check-in card its keys are its own; Escape closes it.
      if (inside(target, checkinBox)) {
        if (key === "Escape") { event.preventDefault(); closeCheckin(); }
        return;
      }
      // Inside the skip and unclear forms the keys belong to the form.
      if (inside(target, unclearForm) || inside(target, skipForm)) {
        if (key === "Escape") {
          event.preventDefault();
          if (inside(target, unclearForm)) { closeUnclear(); } else { closeSkip(); }
        } else if (key === "Enter" && ctrl && inside(target, unclearForm)) {
          event.preventDefault();
          unclearForm.requestSubmit();
        }
        return;
      }

      if (key === "Enter" && ctrl) {
        event.preventDefault();
        submit();
        return;
      }
      if (ctrl && !event.shiftKey && !event.altKey && (key === "z" || key === "Z") && !inField) {
        event.preventDefault();
        undo();
        return;
      }
      if (ctrl) { return; }   // leave the browser's own shortcuts alone
      if (key === "Escape") {
        if (inField && inside(target, area)) {
          event.preventDefault();
          target.blur();
          var root = area.querySelector(".hw");
          (root || area).focus();
        } else if (state.mode === "amending") {
          event.preventDefault();
          cancelAmend();
        }
        return;
      }
      if (inField) { return; }
      if (!event.altKey) {
        if (event.shiftKey && (key === "S" || key === "s")) { event.preventDefault(); openSkip(); return; }
        if (event.shiftKey && (key === "U" || key === "u")) { event.preventDefault(); openUnclear(); return; }
        if (key === "i" || key === "I") { event.preventDefault(); setInstructions(!instructionsOpen); return; }
      }

      if (state.mode === "cover") {
        if (key === "r" || key === "R") { event.preventDefault(); revealItem(); }
        return;
      }
      if (state.mode === "feedback") {
        if (key === "Enter" && !event.shiftKey && !event.altKey) {
          event.preventDefault();
          if (!event.repeat) { continueAfterFeedback(); }
        }
        return;
      }

      // A focused button or link outside the item keeps its own Enter and Space.
      var tag = target && target.tagName ? target.tagName.toLowerCase() : "";
      var control = tag === "button" || tag === "a" || tag === "summary";
      if (control && !inside(target, area) && (key === "Enter" || key === " ")) { return; }

      if (state.controller && (state.mode === "answering" || state.mode === "amending") && !state.busy) {
        var used = false;
        try { used = state.controller.handleKey(event) === true; } catch (e) { reportBug(e); }
        if (used) { event.preventDefault(); refresh(); return; }
      }
      if (key === "Enter" && !event.shiftKey && !event.altKey) {
        if (control && target.getAttribute("data-enter") === "activate") { return; }
        if (state.mode === "answering" || state.mode === "amending") {
          event.preventDefault();
          submit();
        }
      }
    }

    // ---------------------------------------------------------------- exposure and check-ins
    // After a forced break starts or a daily limit is reached (seen from the server's
    // exposure state after each sensitive item, or from an empty lease), a short check-in
    // is offered with the project's support resources; "Check in" offers it at any time
    // once the worker has seen a sensitive item today. The answers go to the server only.
    var checkinBox = document.getElementById("checkin");
    var checkinForm = document.getElementById("checkin-form");
    var checkinWhy = document.getElementById("checkin-why");
    var checkinSupport = document.getElementById("checkin-support");
    var checkinSupportText = document.getElementById("checkin-support-text");
    var checkinDone = document.getElementById("checkin-done");
    var checkinClose = document.getElementById("checkin-close");
    var btnCheckin = document.getElementById("btn-checkin");
    var projectPath = "/ui/projects/" + encodeURIComponent(project.name);
    var exposureNow = null;     // the last exposure state from the server
    var offered = {};           // the breaks and limits a check-in was already offered for
    var checkin = { trigger: "self", openedAt: 0, returnFocus: null };

    function localTime(iso) {
      var when = Date.parse(iso || "");
      return isNaN(when) ? "" : new Date(when).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    }

    function loadExposure(offer) {
      if (!checkinBox) { return Promise.resolve(null); }
      return fetch(projectPath + "/exposure", { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .catch(function () { return null; })
        .then(function (data) {
          if (!data) { return null; }
          exposureNow = data;
          if (btnCheckin) { btnCheckin.hidden = !(data.sensitive_today > 0); }
          var limits = data.limits_reached || [];
          if (!offer) {
            // What was already in force when the page opened is not news.
            if (data.break_until) { offered["break " + data.break_until] = true; }
            limits.forEach(function (hit) { offered["limit " + hit.category] = true; });
            return data;
          }
          if (data.break_until && !offered["break " + data.break_until]) {
            offered["break " + data.break_until] = true;
            openCheckin("break");
            return data;
          }
          var fresh = limits.filter(function (hit) { return !offered["limit " + hit.category]; });
          fresh.forEach(function (hit) { offered["limit " + hit.category] = true; });
          if (fresh.length) { openCheckin("limit", fresh); }
          return data;
        });
    }

    function exposureSeen(item) {
      if (item && item.sensitivity && item.sensitivity.length) { loadExposure(true); }
    }

    function exposureEmpty(reason) {
      if (reason) { loadExposure(true); }
    }

    function openCheckin(trigger, limits) {
      if (!checkinBox) { return; }
      checkin.trigger = trigger;
      checkin.openedAt = Date.now();
      if (checkinBox.hidden) { checkin.returnFocus = document.activeElement; }
      var data = exposureNow || {};
      if (trigger === "break") {
        checkinWhy.textContent = "Time for a break from sensitive items: you have seen " + (data.in_a_row || "several") +
          " in a row. They come back at " + localTime(data.break_until) + "; other items continue. How are you doing?";
      } else if (trigger === "limit") {
        var names = (limits || data.limits_reached || []).map(function (hit) { return hit.category; });
        checkinWhy.textContent = "You reached today's limit for " + names.join(", ") +
          ". More come after midnight (" + (data.timezone || "UTC") + "). How are you doing?";
      } else {
        checkinWhy.textContent = "Thank you for taking a moment. Your answers stay with you unless you choose to share them.";
      }
      var support = data.support_resources || "";
      checkinSupportText.textContent = support || "This project has not listed support resources; its manager can tell you where to find support.";
      checkinSupport.hidden = false;
      checkinForm.reset();
      checkinForm.hidden = false;
      checkinDone.hidden = true;
      if (checkinClose) { checkinClose.hidden = true; }
      checkinBox.hidden = false;
      var first = checkinForm.querySelector('input[name="checkin-feeling"]:checked');
      if (first) { first.focus(); }
    }

    function closeCheckin() {
      if (!checkinBox || checkinBox.hidden) { return; }
      checkinBox.hidden = true;
      var target = checkin.returnFocus;
      checkin.returnFocus = null;
      if (target && target !== document.body && document.contains(target) && !target.disabled) {
        target.focus();
      } else {
        focusWork();
      }
    }

    function sendCheckin(event) {
      event.preventDefault();
      var feeling = checkinForm.querySelector('input[name="checkin-feeling"]:checked');
      var body = {
        feeling: feeling ? parseInt(feeling.value, 10) : 3,
        wants_support: document.getElementById("checkin-wants-support").checked,
        note: document.getElementById("checkin-note").value.trim(),
        shared: document.getElementById("checkin-shared").checked,
        trigger: checkin.trigger,
        seconds: Math.min(Math.round((Date.now() - checkin.openedAt) / 100) / 10, 14400)
      };
      var send = checkinForm.querySelector('button[type="submit"]');
      send.disabled = true;
      post(projectPath + "/checkins", body, "check-in").then(function (result) {
        send.disabled = false;
        checkinForm.hidden = true;
        checkinDone.hidden = false;
        if (result && result.support_resources) { checkinSupportText.textContent = result.support_resources; }
        if (checkinClose) { checkinClose.hidden = false; checkinClose.focus(); }
      }).catch(function (error) {
        send.disabled = false;
        setStatus(error.message || "The check-in could not be sent.", true);
      });
    }

    if (checkinForm) {
      checkinForm.addEventListener("submit", sendCheckin);
      document.getElementById("checkin-cancel").addEventListener("click", closeCheckin);
    }
    if (checkinClose) { checkinClose.addEventListener("click", closeCheckin); }
    if (btnCheckin) { btnCheckin.addEventListener("click", function () { openCheckin("self"); }); }
    loadExposure(false);

    // ---------------------------------------------------------------- wire up
    btnSubmit.addEventListener("click", submit);
    btnSkip.addEventListener("click", openSkip);
    btnUnclear.addEventListener("click", openUnclear);
    btnUndo.addEventListener("click", undo);
    if (btnInstr) { btnInstr.addEventListener("click", function () { setInstructions(!instructionsOpen); }); }
    if (unclearForm) {
      unclearForm.addEventListener("submit", sendUnclear);
      unclearCancel.addEventListener("click", function () { closeUnclear(); });
    }
    if (skipForm) {
      skipForm.addEventListener("submit", function (event) {
        event.preventDefault();
        var reason = skipReason.value.trim();
        skipReason.value = "";
        closeSkip(false);
        skip(reason);
      });
      skipCancel.addEventListener("click", function () { closeSkip(); });
    }
    document.addEventListener("keydown", onKey);

    var savedPanel = null;
    try { savedPanel = window.localStorage.getItem("handloom-instructions"); } catch (e) { savedPanel = null; }
    // New or changed instructions always start open.
    var unread = config.instructions.last_read < config.instructions.version;
    setInstructions(unread || savedPanel !== "hidden");
    setSubmitLabel("Submit");
    if (!widget) {
      setStatus("This screen cannot show " + project.widget + " tasks (its script did not load).", true);
      refresh();
      return;
    }
    loadNext();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
