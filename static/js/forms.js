// A form marked data-once sends once: a double click or an impatient second tap would otherwise
// post it twice. (The server also recognises a repeated form by its one-time key.)
document.querySelectorAll("form[data-once]").forEach((form) => {
  form.addEventListener("submit", (event) => {
    if (form.dataset.sending === "1") {
      event.preventDefault();
      return;
    }
    form.dataset.sending = "1";
    form.querySelectorAll("button[type=submit]").forEach((button) => {
      button.setAttribute("aria-disabled", "true");
      button.classList.add("disabled");
    });
  });
});

// Coming back with the browser's Back button restores the page as it was left: sendable again.
window.addEventListener("pageshow", () => {
  document.querySelectorAll("form[data-once]").forEach((form) => {
    form.dataset.sending = "";
    form.querySelectorAll("button[type=submit]").forEach((button) => {
      button.removeAttribute("aria-disabled");
      button.classList.remove("disabled");
    });
  });
});
