/*
 * Runs inside /embed: tells the parent page how tall this page is whenever
 * that changes, so /embed-resize.js there can fit the iframe to it. The
 * height is no secret, so any parent may hear it ("*").
 *
 * A resize observer alone is not enough: a browser may hold back rendering,
 * and with it resize observers, in a frame from another origin that is out of
 * sight, so a frame below the fold would keep its first height until scrolled
 * to, and the page below it would jump. Every change to the widget's content
 * (its shadow root's, observed as mutations, which are not held back) also
 * measures the page and reports it.
 */
(() => {
  "use strict";

  if (window.parent === window) return;
  let last = -1;
  const post = () => {
    const height = Math.ceil(document.body.getBoundingClientRect().height);
    if (height === last) return;
    last = height;
    window.parent.postMessage({ type: "interview-advice:resize", height }, "*");
  };
  // The body's height follows its content, not the iframe's: no resize loop.
  new ResizeObserver(post).observe(document.body);
  const changes = new MutationObserver(post);
  const what = { childList: true, subtree: true, attributes: true, characterData: true };
  changes.observe(document.body, what);
  for (const widget of document.querySelectorAll("interview-advice")) {
    if (widget.shadowRoot) changes.observe(widget.shadowRoot, what);
  }
  post();
})();
