/* OpenPrepaid console: the few behaviours Bootstrap and htmx do not give us.
 *
 * - Tooltips (the "arrives with billing" hint of the sales desk).
 * - Filter forms (data-drop-empty) send only the filters that are set.
 * - Fields shown only for some values of another field: an input with
 *   data-show-if="transport=transparent_tcp,modbus_tcp" is shown (with its label and help)
 *   only while the form's "transport" field has one of those values. Without scripts every
 *   field shows, and the service ignores the ones that do not apply.
 */
(function () {
  "use strict";

  function initTooltips(root) {
    if (!window.bootstrap) return;
    root.querySelectorAll('[data-bs-toggle="tooltip"]').forEach(function (el) {
      window.bootstrap.Tooltip.getOrCreateInstance(el);
    });
  }

  function initShowIf(root) {
    root.querySelectorAll("[data-show-if]").forEach(function (input) {
      var form = input.form;
      if (!form) return;
      var parts = input.getAttribute("data-show-if").split("=");
      var controller = form.elements.namedItem(parts[0]);
      if (!controller) return;
      var values = (parts[1] || "").split(",");
      var group = input.closest("[data-field]") || input;
      function update() {
        var shown = values.indexOf(controller.value) !== -1;
        group.hidden = !shown;
      }
      controller.addEventListener("change", update);
      update();
    });
  }

  function init(root) {
    initTooltips(root);
    initShowIf(root);
  }

  // Filter forms leave out empty filters, so the address bar shows only what is chosen.
  document.addEventListener("htmx:configRequest", function (event) {
    var source = event.detail.elt;
    if (!source || !source.closest || !source.closest("form[data-drop-empty]")) return;
    if (event.detail.verb !== "get") return;
    var params = event.detail.parameters;
    var keys = [];
    if (typeof params.keys === "function") {
      for (var key of params.keys()) keys.push(key);
    } else {
      keys = Object.keys(params);
    }
    keys.forEach(function (key) {
      var value = typeof params.get === "function" ? params.get(key) : params[key];
      if (value === "" || value === null) {
        if (typeof params.delete === "function") params.delete(key); else delete params[key];
      }
    });
  });

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSwap", function (event) { init(event.target); });
})();
