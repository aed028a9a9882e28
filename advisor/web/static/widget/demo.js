/* /demo: copy buttons for the snippets, announced through the page's status line. */
(() => {
  "use strict";

  const status = document.querySelector(".copied");
  for (const button of document.querySelectorAll("button[data-copy]")) {
    const code = document.getElementById(button.dataset.copy);
    const caption = button.closest("figure")?.querySelector("figcaption")?.textContent;
    button.setAttribute("aria-label", `Copy: ${caption ?? "snippet"}`);
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(code.textContent);
        status.textContent = "Copied to the clipboard.";
      } catch {
        // No clipboard (e.g. plain http): select the text so the keyboard can copy it.
        getSelection().selectAllChildren(code);
        status.textContent = "Selected: press Ctrl+C (or ⌘C) to copy.";
      }
    });
  }
})();
