// Small behaviours every page shares. Listeners sit on the document, so content HTMX swaps in works too.
(function () {
  "use strict";

  function flash(text) {
    var box = document.getElementById("flash");
    if (!box) return;
    var item = document.createElement("p");
    item.className = "message error";
    item.setAttribute("role", "alert");
    item.textContent = text;
    box.replaceChildren(item);
  }

  document.addEventListener("click", function (event) {
    // Picking a record in a picker (or clearing it) sets its hidden id, shows its name and fires `change`
    // (a filter form then refreshes).
    var option = event.target.closest(".picker-option, .picker-clear");
    if (option) {
      var picker = option.closest(".picker");
      var input = picker.querySelector(".picker-value");
      var picked = option.matches(".picker-option");
      input.value = picked ? option.dataset.value : "";
      picker.querySelector(".picker-label").textContent = picked ? option.textContent : "";
      picker.querySelector(".picker-clear").hidden = !picked;
      picker.querySelector(".picker-options").replaceChildren();
      picker.querySelector(".picker-search").value = "";
      input.dispatchEvent(new Event("change", { bubbles: true }));
      return;
    }
    // A read-only snippet box selects its whole text when clicked, ready to copy.
    var snippet = event.target.closest("[data-select-on-click]");
    if (snippet) snippet.select();
    // "Cancel" on a form loaded in place removes it again.
    var dismiss = event.target.closest("[data-dismiss]");
    if (dismiss) dismiss.closest(dismiss.dataset.dismiss).remove();
  });

  // Search boxes refresh on `input`; their `change` (on leaving the box) must not also resubmit the
  // form around them: it would race the click that made them lose focus (a sort, a pick).
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("[data-no-change]")) event.stopPropagation();
  }, true);

  // A select marked data-autosubmit (the language switcher, a status filter) submits its form when changed.
  // (A listener here, not an inline onchange: the Content-Security-Policy runs no inline script.)
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("select[data-autosubmit]")) event.target.form.submit();
  });

  // A list's search form leaves empty fields out of the request, so the URL stays short and shareable.
  document.addEventListener("htmx:configRequest", function (event) {
    var data = event.detail.formData;
    if (event.detail.verb !== "get" || !data || !event.detail.elt.matches("#list-form")) return;
    Array.from(new Set(data.keys())).forEach(function (name) {
      if (data.getAll(name).every(function (value) { return value === ""; })) data.delete(name);
    });
  });

  // HTMX does not swap error responses: show their message (a refused move, a 403) instead.
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var box = document.getElementById("flash");
    var text = xhr.status < 500 ? new DOMParser().parseFromString(xhr.responseText, "text/html").body.textContent.trim() : "";
    flash(text || (box && box.dataset.serverError) || "Error");
  });
  document.addEventListener("htmx:sendError", function () {
    var box = document.getElementById("flash");
    flash((box && box.dataset.offline) || "Offline");
  });
})();
