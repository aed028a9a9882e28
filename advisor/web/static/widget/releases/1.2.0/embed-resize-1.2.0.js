/*
 * For a page that embeds Interview Advisor's /embed in an iframe: fit each
 * <iframe data-interview-advice> to the height its page reports.
 *
 *   <script src="https://ADVISOR/embed-resize.js"></script>
 *   <iframe src="https://ADVISOR/embed" title="Interview advice" data-interview-advice></iframe>
 *
 * Before the iframe and not async, so it listens before the first height is reported.
 *
 * Only a message from the iframe's own window and origin is believed.
 * Setting style.height from script is allowed under a strict style-src.
 */
(() => {
  "use strict";

  const MAX_HEIGHT = 20000;

  window.addEventListener("message", (event) => {
    const { data } = event;
    if (data?.type !== "interview-advice:resize" || !Number.isFinite(data.height)) return;
    for (const frame of document.querySelectorAll("iframe[data-interview-advice]")) {
      if (frame.contentWindow !== event.source) continue;
      if (new URL(frame.src, location.href).origin !== event.origin) continue;
      frame.style.height = `${Math.min(Math.max(data.height, 0), MAX_HEIGHT)}px`;
    }
  });
})();
