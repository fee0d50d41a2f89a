// Small behaviours every page shares: the file pickers' labels, and the language switcher that
// asks before it drops what someone typed.
(function () {
  "use strict";

  // --- File pickers --------------------------------------------------------------------------
  // A browser labels its own file input in the browser's language ("Choose File"), not the
  // page's: the real input is hidden (still focusable and labelled, see app.css) behind a
  // translated button, and the name of the chosen file is shown here.
  document.querySelectorAll("[data-file-input]").forEach(function (box) {
    var input = box.querySelector("input[type=file]");
    var name = box.querySelector("[data-file-name]");
    if (!input || !name) {
      return;
    }
    var show = function () {
      var files = Array.prototype.map.call(input.files || [], function (file) { return file.name; });
      name.textContent = files.length ? files.join(", ") : name.dataset.empty;
    };
    input.addEventListener("change", show);
    // Coming back with the Back button, the browser may restore a chosen file.
    window.addEventListener("pageshow", show);
  });

  // --- Tables wider than a phone --------------------------------------------------------------
  // A table scrolls sideways inside its own box (.table-responsive) so that the page never does;
  // a box that scrolls must be reachable with the keyboard, to scroll it with the arrow keys.
  var focusableScrollers = function () {
    document.querySelectorAll(".table-responsive").forEach(function (box) {
      if (box.scrollWidth > box.clientWidth + 1) {
        box.tabIndex = 0;
      } else {
        box.removeAttribute("tabindex");
      }
    });
  };
  focusableScrollers();
  window.addEventListener("resize", focusableScrollers);
  document.addEventListener("toggle", focusableScrollers, true); // a <details> opened

  // --- The language switcher -----------------------------------------------------------------
  // The page in the other language is a new page: a form filled in here comes back empty
  // there. So the switcher asks first when a form on this page has been typed into since it
  // was opened and not sent. Forms that only filter (GET) keep their values in the address,
  // which the switcher carries over.
  var switcher = document.querySelector("form[data-language-switcher]");
  var dialog = document.getElementById("language-leave-dialog");
  if (!switcher || !dialog) {
    return;
  }
  var dirty = new Set();
  var watched = function (form) {
    return form && form !== switcher && (form.method || "").toLowerCase() === "post" &&
      !form.closest(".app-navbar");
  };
  var touched = function (event) {
    var field = event.target;
    if (field && field.type !== "hidden" && watched(field.form)) {
      dirty.add(field.form);
    }
  };
  document.addEventListener("input", touched, true);
  document.addEventListener("change", touched, true);
  document.addEventListener("submit", function (event) {
    if (event.target !== switcher) {
      dirty.delete(event.target);
    }
  }, true);

  var chosen = null;
  switcher.addEventListener("submit", function (event) {
    if (!dirty.size || switcher.dataset.confirmed === "1") {
      return;
    }
    event.preventDefault();
    chosen = event.submitter || switcher.querySelector("button[name=language]");
    dialog.showModal();
  });
  dialog.querySelector("[data-stay]").addEventListener("click", function () {
    dialog.close();
  });
  dialog.querySelector("[data-leave]").addEventListener("click", function () {
    dialog.close();
    switcher.dataset.confirmed = "1";
    if (switcher.requestSubmit) {
      switcher.requestSubmit(chosen);
    } else {
      chosen.click();
    }
  });
})();
