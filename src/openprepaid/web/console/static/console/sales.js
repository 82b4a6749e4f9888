/* OpenPrepaid sales desk: the few behaviours of the cashier's forms.
 *
 * - A radio group ("sell by amount / by energy") shows only the field it chooses: an element
 *   with data-by="energy" shows while the form's "by" radio is "energy".
 * - Quick-amount buttons (data-amount) fill the amount field.
 * - In the search box, the down arrow moves into the results; Escape clears the box.
 */
(function () {
  "use strict";

  function initBy(root) {
    root.querySelectorAll("form[data-sell-form]").forEach(function (form) {
      function update() {
        var checked = form.querySelector("input[name=by]:checked");
        var by = checked ? checked.value : "amount";
        form.querySelectorAll("[data-by]").forEach(function (el) {
          el.hidden = el.getAttribute("data-by") !== by;
        });
        var field = form.querySelector("[data-by='" + by + "'] input");
        if (field && document.activeElement && document.activeElement.name === "by") field.focus();
      }
      form.querySelectorAll("input[name=by]").forEach(function (radio) {
        radio.addEventListener("change", update);
      });
      update();
    });
    root.querySelectorAll("[data-amount]").forEach(function (button) {
      button.addEventListener("click", function () {
        var input = button.form && button.form.elements.namedItem("amount");
        if (input) { input.value = button.getAttribute("data-amount"); input.focus(); }
      });
    });
  }

  function initSearch(root) {
    var box = root.querySelector("[data-desk-search]");
    if (!box) return;
    box.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown") {
        var first = document.querySelector("#desk-results a");
        if (first) { event.preventDefault(); first.focus(); }
      } else if (event.key === "Escape") {
        box.value = "";
      }
    });
    document.addEventListener("keydown", function (event) {
      var link = document.activeElement;
      if (!link || !link.closest || !link.closest("#desk-results")) return;
      var items = Array.prototype.slice.call(document.querySelectorAll("#desk-results a"));
      var index = items.indexOf(link);
      if (event.key === "ArrowDown" && index < items.length - 1) { event.preventDefault(); items[index + 1].focus(); }
      if (event.key === "ArrowUp") { event.preventDefault(); (index > 0 ? items[index - 1] : box).focus(); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () { initBy(document); initSearch(document); });
  document.addEventListener("htmx:afterSwap", function (event) { initBy(event.target); });
})();
