// Keyboard shortcuts on a report's page for the person reviewing it (the page says so in
// #review-keys-hint): A accepts at once, R moves to the comment with "return" chosen, and
// Ctrl+Enter (or Cmd+Enter) in the comment sends the form. A and R do nothing while the person
// types in a field or holds a modifier, so that they never fire by accident. A file, not an
// inline script: the pages' CSP allows scripts from this site only.
(() => {
  const form = document.querySelector("form[data-review-form]");
  if (!form) return;
  const script = document.currentScript;
  const announce = document.querySelector("[data-review-announce]");
  const comment = form.querySelector("textarea[name=comment]");
  const choice = (value) =>
    form.querySelector(`input[name=decision][value=${value}]`) ||
    form.querySelector(`input[type=hidden][name=decision][value=${value}]`);

  const say = (text) => {
    if (announce && text) announce.textContent = text;
  };

  const typing = (target) =>
    target instanceof HTMLElement &&
    (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));

  document.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target === comment) {
      event.preventDefault();
      form.requestSubmit();
      return;
    }
    if (event.defaultPrevented || event.repeat || event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    if (typing(event.target)) return;
    const key = event.key.toLowerCase();
    if (key === "a") {
      const accept = choice("accept");
      if (!accept || accept.type === "hidden") return;
      event.preventDefault();
      accept.checked = true;
      say(script && script.dataset.accepting);
      form.requestSubmit();
    } else if (key === "r") {
      const giveBack = choice("return");
      if (!giveBack || !comment) return;
      event.preventDefault();
      if (giveBack.type === "radio") giveBack.checked = true;
      comment.focus();
      say(script && script.dataset.returning);
    }
  });
})();
