// Red-team widget: the objective and target, then the report: the attack prompt, the
// target's response, "attack succeeded", the harm category (required when it succeeded)
// and notes. Complete when the prompt (and, if the project requires it, the response) is
// filled in, and a harm category is chosen for a successful attack.
// Keys (when not typing in a box): P prompt, R response, Y toggles "attack succeeded",
// H harm category, N notes; Escape leaves a box; Ctrl+Enter submits. See task.js.
(function () {
  "use strict";
  window.HandloomWidgets = window.HandloomWidgets || {};

  window.HandloomWidgets.redteam = {
    mount: function (container, ctx, api) {
      var D = window.HandloomDom;
      var el = D.el;
      var cfg = ctx.config;
      var p = ctx.payload;
      var harms = cfg.harm_categories || [];
      var requireResponse = cfg.require_response !== false;

      var facts = el("dl", { cls: "hw-facts" });
      if (p.goal) { facts.appendChild(el("dt", { text: "Objective" })); facts.appendChild(el("dd", { cls: "hw-text", text: p.goal })); }
      if (p.target) { facts.appendChild(el("dt", { text: "Target" })); facts.appendChild(el("dd", { cls: "hw-text", text: p.target })); }
      if (p.prompt) { facts.appendChild(el("dt", { text: "Starting prompt" })); facts.appendChild(el("dd", { cls: "hw-text", text: p.prompt })); }
      if (!facts.firstChild) { facts.appendChild(el("dd", { cls: "muted", text: "No objective given: probe freely within the project's rules." })); }
      container.appendChild(D.section("Your task", facts));
      var more = D.extras(p, ["goal", "target", "prompt"]);
      if (more) { container.appendChild(more); }

      function field(labelText, node, required) {
        var id = D.uid("rt");
        node.setAttribute("id", id);
        if (required) { node.setAttribute("aria-required", "true"); }
        var label = el("label", { attrs: { "for": id } }, [labelText,
          required ? el("span", { cls: "hw-required", text: " (required)" }) : el("span", { cls: "muted", text: " (optional)" })]);
        return el("div", { cls: "hw-field" }, [label, node]);
      }

      var prompt = el("textarea", { attrs: { rows: "4", maxlength: "20000" } });
      var response = el("textarea", { attrs: { rows: "4", maxlength: "20000" } });
      var successId = D.uid("rt-ok");
      var success = el("input", { attrs: { type: "checkbox", id: successId } });
      var harm = el("select", {});
      harm.appendChild(el("option", { text: "— choose a category —", attrs: { value: "" } }));
      harms.forEach(function (h) { harm.appendChild(el("option", { text: h, attrs: { value: h } })); });
      var notes = el("textarea", { attrs: { rows: "2", maxlength: "5000" } });

      var harmField = field("Harm category", harm, false);
      var harmLabel = harmField.querySelector("label span");
      container.appendChild(el("div", { cls: "hw-answer hw-redteam-form" }, [
        field("Attack prompt you sent", prompt, true),
        field("The target's response", response, requireResponse),
        el("label", { cls: "hw-check hw-success", attrs: { "for": successId } },
          [success, D.kbd("Y"), el("span", { text: "The attack succeeded" })]),
        harmField,
        field("Notes", notes, false)
      ]));

      function render() {
        var needed = success.checked;
        harmLabel.textContent = needed ? " (required: the attack succeeded)" : " (optional)";
        harmLabel.className = needed ? "hw-required" : "muted";
        harm.setAttribute("aria-required", needed ? "true" : "false");
        success.parentNode.classList.toggle("is-selected", success.checked);
      }

      [prompt, response, notes].forEach(function (node) { node.addEventListener("input", function () { api.changed(); }); });
      success.addEventListener("change", function () { render(); api.changed(); });
      harm.addEventListener("change", function () { api.changed(); });
      render();

      return {
        getAnswer: function () {
          var answer = {
            prompt: prompt.value,
            attack_succeeded: success.checked,
            notes: notes.value.trim()
          };
          if (!prompt.value.trim()) { return null; }
          if (response.value.trim()) { answer.response = response.value; }
          else if (requireResponse) { return null; }
          if (harm.value) { answer.harm_category = harm.value; }
          else if (success.checked) { return null; }
          return answer;
        },
        setAnswer: function (answer) {
          answer = answer || {};
          prompt.value = answer.prompt || "";
          response.value = answer.response || "";
          success.checked = answer.attack_succeeded === true;
          harm.value = answer.harm_category || "";
          notes.value = answer.notes || "";
          render();
          api.changed();
        },
        handleKey: function (event) {
          if (event.altKey || event.shiftKey) { return false; }
          var key = (event.key || "").toLowerCase();
          if (key === "p") { prompt.focus(); return true; }
          if (key === "r") { response.focus(); return true; }
          if (key === "h") { harm.focus(); return true; }
          if (key === "n") { notes.focus(); return true; }
          if (key === "y") {
            success.checked = !success.checked;
            render();
            api.changed();
            return true;
          }
          return false;
        },
        hotkeys: function () {
          return [
            { key: "P", label: "prompt" }, { key: "R", label: "response" },
            { key: "Y", label: "attack succeeded" }, { key: "H", label: "harm category" },
            { key: "N", label: "notes" }
          ];
        },
        focus: function () { prompt.focus(); }
      };
    }
  };
})();
