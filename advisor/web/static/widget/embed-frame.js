/*
 * Runs inside /embed: tells the parent page how tall this page is whenever
 * that changes, so /embed-resize.js there can fit the iframe to it. The
 * height is no secret, so any parent may hear it ("*").
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
})();
