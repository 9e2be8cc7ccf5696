// Shared page behaviour: theme switching and the CSRF header on every htmx request.
// No inline scripts anywhere: the Content-Security-Policy forbids them.
(function () {
  "use strict";
  var root = document.documentElement;
  var stored = null;
  try { stored = window.localStorage.getItem("handloom-theme"); } catch (e) { stored = null; }
  if (stored === "light" || stored === "dark") { root.setAttribute("data-theme", stored); }

  function currentTheme() {
    var set = root.getAttribute("data-theme");
    if (set === "light" || set === "dark") { return set; }
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("theme-toggle");
    if (button) {
      button.textContent = currentTheme() === "dark" ? "Light theme" : "Dark theme";
      button.addEventListener("click", function () {
        var next = currentTheme() === "dark" ? "light" : "dark";
        root.setAttribute("data-theme", next);
        try { window.localStorage.setItem("handloom-theme", next); } catch (e) { /* private mode */ }
        button.textContent = next === "dark" ? "Light theme" : "Dark theme";
      });
    }
  });

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRF-Token"] = csrf();
  });

  // A small JSON helper for page scripts: POST with the CSRF header, parse the JSON reply,
  // and turn an error body into an Error carrying the server's message.
  window.Handloom = window.Handloom || {};
  window.Handloom.csrf = csrf;
  window.Handloom.postJSON = function (url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.text().then(function (text) {
        var data = {};
        try { data = text ? JSON.parse(text) : {}; } catch (e) { data = { message: text }; }
        if (!response.ok) {
          var error = new Error(data.message || ("Request failed (" + response.status + ")"));
          error.status = response.status;
          error.body = data;
          throw error;
        }
        return data;
      });
    });
  };
})();
