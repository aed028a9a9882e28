/*
 * <interview-advice>: Interview Advisor's embeddable widget.
 *
 *   <script src="https://ADVISOR/widget.js" defer></script>
 *   <interview-advice></interview-advice>
 *
 * A custom element with a shadow root and no framework. It asks two things of
 * one server: POST {api}/v1/advice, and POST {api}/v1/drafts when the
 * candidate asks for a draft, where `api` defaults to the folder this script
 * was served from. No cookies, no storage, no other requests.
 *
 * Without a `stage` attribute it shows a form; with one, it shows the advice
 * for the state its attributes describe (each field of the interview state
 * in kebab-case: stage="after" hours-since="30" via-agency plans="...").
 * `avoid` chooses how the "Not that" warnings are shown: "collapsed" behind a
 * toggle (the default), "open" or "hidden"; the candidate's own plans are
 * shown with their verdicts whatever it says.
 *
 * Under the actions, "What's next" lists the ones that start later (the
 * answer's `upcoming`). An action that is a message offers "Draft it": a few
 * optional details, then the draft in a text area to edit and copy (and, for
 * an email, a mailto: link).
 *
 * When no advice comes (service unreachable, refused, overloaded, broken, too
 * slow, or an answer that is not advice), the widget says so in its own words
 * through its alert region and the form stays as it was, ready to send again.
 * With attributes and no form, a failure worth retrying (no answer, 408, 429,
 * 5xx) brings a "Try again" button, and a 429 whose Retry-After is at most five
 * minutes is asked again once by itself when that time has passed.
 *
 * Safety: every string from the API or the user reaches the page through
 * textContent or a Text node, never as HTML; no eval, no inline handlers,
 * no style attributes, so it runs under `script-src 'self'; style-src 'self'`.
 */
(() => {
  "use strict";

  const TAG = "interview-advice";
  if (customElements.get(TAG)) return; // loaded twice: the first definition stands

  // What the widget reads of `document` it reads from Document.prototype: markup of
  // the page (a comment, a job's description) can name a property of `document`
  // ("DOM clobbering": `<img name="currentScript">` is then what
  // document.currentScript returns, `<form name="createElement">` what
  // document.createElement is), but no element can stand in for the prototype's.
  const DOCUMENT = Document.prototype;
  const CREATE_ELEMENT = DOCUMENT.createElement;
  const EXEC_COMMAND = DOCUMENT.execCommand;
  const createElement = (tag) => Reflect.apply(CREATE_ELEMENT, document, [tag]);
  const execCommand = (command) => Reflect.apply(EXEC_COMMAND, document, [command]);
  // This script's own element (null in a module): anything but a <script> is the
  // page's markup, and the server is then taken to be the page's own.
  const ownScript = Reflect.apply(Object.getOwnPropertyDescriptor(DOCUMENT, "currentScript").get, document, []);

  const SCRIPT_URL = (ownScript instanceof HTMLScriptElement && ownScript.src) || location.href;
  const DEFAULT_API = new URL(".", SCRIPT_URL).href;

  // The server writes widget.css here as a string (advisor/web/widget.py);
  // served as a plain file it stays null and the stylesheet is linked instead.
  const CSS = "/*\n * The stylesheet of <interview-advice>, applied inside its shadow root.\n *\n * /widget.js carries it as a constructable stylesheet (host pages need not\n * allow our origin in style-src); browsers without adoptedStyleSheets link\n * /widget.css instead.\n *\n * Host pages theme the widget only through the --ia-* custom properties\n * documented in the README. Everything else is sealed off:\n * - the host page places and sizes the element (margin, width, position);\n *   how the box itself looks is locked with !important, which in the inner\n *   (shadow) context beats even the host page's !important rules;\n * - `.ia` resets every inherited property (`all: initial`), so fonts,\n *   colours and spacing set on the host page do not leak in;\n * - `.ia` is an inline-block filling the host, because text decorations\n *   (underlines) of ancestors reach into blocks whatever they inherit, but\n *   never into the content of an inline-block. The host's line is then\n *   made to add nothing around it: no indent, spacing or line height.\n *   Printed, `.ia` is a block: a line is never split across pages, so an\n *   inline-block taller than what is left of a page would leave it blank.\n * - the host keeps the page's direction, so that the page's logical margins\n *   and floats of it resolve as the page's do; `.ia` is left to right\n *   (`all: initial` leaves `direction` inherited).\n */\n\n:host {\n  display: block !important;\n  box-sizing: border-box !important;\n  padding: 0 !important;\n  border: 0 !important;\n  background: none !important;\n  box-shadow: none !important;\n  outline: 0 !important;\n  opacity: 1 !important;\n  visibility: visible !important;\n  filter: none !important;\n  transform: none !important;\n  clip-path: none !important;\n  mix-blend-mode: normal !important;\n  zoom: 1 !important;\n  writing-mode: horizontal-tb !important;\n  text-align: left !important;\n  text-indent: 0 !important;\n  letter-spacing: normal !important;\n  word-spacing: normal !important;\n  white-space: normal !important;\n  line-height: 0 !important;\n  contain: content;\n}\n\n:host([hidden]) {\n  display: none !important;\n}\n\n:host::before,\n:host::after {\n  content: none !important;\n  display: none !important;\n}\n\n.ia {\n  all: initial;\n  /* Theme: every colour, the font and the radius can be set by the host page. */\n  --_font: var(\n    --ia-font,\n    system-ui,\n    -apple-system,\n    \"Segoe UI\",\n    Roboto,\n    \"Helvetica Neue\",\n    \"Noto Sans\",\n    \"Liberation Sans\",\n    Arial,\n    sans-serif\n  );\n  /* `medium`: the reader's own default text size (16px unless they chose another). */\n  --_size: var(--ia-font-size, medium);\n  --_radius: var(--ia-radius, 12px);\n  --_text: var(--ia-text, #1c2330);\n  --_muted: var(--ia-muted, #5a6474);\n  --_bg: var(--ia-background, #ffffff);\n  --_surface: var(--ia-surface, #f5f7fa);\n  --_border: var(--ia-border, #dfe3ea);\n  --_accent: var(--ia-accent, #2451c7);\n  --_accent-text: var(--ia-accent-text, #ffffff);\n  --_focus: var(--ia-focus, #f2a900);\n  --_ok: var(--ia-ok, #17683a);\n  --_ok-bg: var(--ia-ok-background, #e3f4e9);\n  --_reject: var(--ia-reject, #a4201c);\n  --_reject-bg: var(--ia-reject-background, #fbe7e6);\n  --_warn: var(--ia-warn, #8a5200);\n  --_warn-bg: var(--ia-warn-background, #fdf3e1);\n\n  display: inline-block;\n  vertical-align: top;\n  width: 100%;\n  box-sizing: border-box;\n  min-width: 0;\n  /* Less padding when narrow: a percentage is of the host's width. */\n  padding: 1.25em min(1.25em, 4%);\n  font-family: var(--_font);\n  font-size: var(--_size);\n  font-weight: 400;\n  line-height: 1.5;\n  color: var(--_text);\n  background: var(--_bg);\n  border: 1px solid var(--_border);\n  border-radius: var(--_radius);\n  /* A word longer than the line (a link pasted into a plan) breaks, rather than\n     widening the cards past the widget's edge. */\n  overflow-wrap: anywhere;\n  direction: ltr;\n  text-align: start;\n  -webkit-text-size-adjust: 100%;\n  text-size-adjust: 100%;\n}\n\n.ia *,\n.ia *::before,\n.ia *::after {\n  box-sizing: border-box;\n}\n\n[hidden] {\n  display: none !important;\n}\n\n:focus {\n  outline: none;\n}\n\n:focus-visible {\n  outline: 3px solid var(--_focus);\n  outline-offset: 2px;\n  border-radius: 4px;\n}\n\nh2,\nh3,\nh4,\np,\nol,\nul,\nblockquote,\nfieldset,\nfigure {\n  margin: 0;\n  padding: 0;\n}\n\n/* Header */\n\n.head {\n  margin-bottom: 1em;\n}\n\n.title {\n  font-size: 1.3em;\n  font-weight: 700;\n  line-height: 1.25;\n  letter-spacing: -0.01em;\n}\n\n.subtitle {\n  margin-top: 0.25em;\n  color: var(--_muted);\n  font-size: 0.9em;\n}\n\n/* Form */\n\n/*\n * The form and the results are size containers, for their own layout only:\n * the widget as a whole keeps its natural width (e.g. as a flex item).\n */\n.form,\n.results {\n  container-type: inline-size;\n}\n\n.form {\n  display: grid;\n  gap: 1em;\n  padding: 1em min(1em, 3.5%);\n  background: var(--_surface);\n  border-radius: calc(var(--_radius) * 0.75);\n}\n\n.field {\n  display: grid;\n  align-content: start;\n  gap: 0.35em;\n  min-width: 0;\n}\n\n.stack {\n  display: grid;\n  align-content: start;\n  gap: 0.75em;\n}\n\n.label,\nlegend {\n  padding: 0;\n  font-weight: 600;\n  font-size: 0.92em;\n}\n\n.hint {\n  color: var(--_muted);\n  font-size: 0.85em;\n}\n\nfieldset {\n  min-width: 0;\n  border: 0;\n}\n\nfieldset > legend {\n  margin-bottom: 0.35em;\n}\n\nselect,\ninput,\ntextarea,\nbutton,\nsummary {\n  font: inherit;\n  color: inherit;\n}\n\nselect,\ninput[type=\"number\"],\ninput[type=\"datetime-local\"],\ninput[type=\"text\"],\ntextarea {\n  width: 100%;\n  min-height: 2.6em;\n  padding: 0.45em 0.65em;\n  background: var(--_bg);\n  border: 1px solid #b6becb;\n  border-color: color-mix(in srgb, var(--_text) 30%, var(--_bg));\n  border-radius: calc(var(--_radius) * 0.5);\n}\n\nselect {\n  appearance: auto;\n}\n\ntextarea {\n  min-height: 4.6em;\n  resize: vertical;\n}\n\n[aria-invalid=\"true\"] {\n  border-color: var(--_reject);\n  box-shadow: 0 0 0 1px var(--_reject);\n}\n\n.row {\n  display: grid;\n  grid-template-columns: minmax(0, 1fr);\n  gap: 1em;\n}\n\n@container (min-width: 32em) {\n  .row {\n    grid-template-columns: minmax(0, 1fr) minmax(0, 1fr);\n  }\n}\n\n.choices {\n  display: flex;\n  flex-wrap: wrap;\n  gap: 0.25em 1.25em;\n}\n\n.checks {\n  display: grid;\n  grid-template-columns: repeat(auto-fill, minmax(min(100%, 12em), 1fr));\n  gap: 0.25em 1em;\n}\n\n.check {\n  display: flex;\n  align-items: flex-start;\n  gap: 0.5em;\n  min-height: 2em;\n  padding: 0.2em 0;\n  cursor: pointer;\n}\n\n.check input {\n  flex: none;\n  width: 1.15em;\n  height: 1.15em;\n  margin: 0.17em 0 0;\n  accent-color: var(--_accent);\n}\n\n.more > summary {\n  font-size: 0.92em;\n}\n\n.more[open] > summary {\n  margin-bottom: 0.75em;\n}\n\n.more-grid {\n  display: grid;\n  grid-template-columns: repeat(auto-fill, minmax(min(100%, 14em), 1fr));\n  gap: 1em;\n}\n\n.actions-bar {\n  display: flex;\n  flex-wrap: wrap;\n  align-items: center;\n  gap: 0.75em;\n}\n\n.submit {\n  display: inline-flex;\n  align-items: center;\n  justify-content: center;\n  min-height: 2.75em;\n  padding: 0.55em 1.4em;\n  font-weight: 600;\n  color: var(--_accent-text);\n  background: var(--_accent);\n  border: 0;\n  border-radius: calc(var(--_radius) * 0.5);\n  cursor: pointer;\n}\n\n.submit:hover {\n  filter: brightness(1.08);\n}\n\n.submit:disabled,\n.submit[aria-disabled=\"true\"] {\n  cursor: progress;\n  opacity: 0.7;\n}\n\n/* Status and errors */\n\n.status {\n  margin-top: 0.75em;\n  color: var(--_muted);\n  font-size: 0.9em;\n}\n\n.status:empty {\n  display: none;\n}\n\n.error {\n  margin-top: 1em;\n  padding: 0.75em 1em;\n  color: var(--_reject);\n  background: var(--_reject-bg);\n  border-radius: calc(var(--_radius) * 0.5);\n}\n\n.error ul {\n  margin-top: 0.25em;\n  padding-left: 1.25em;\n}\n\n/* Empty until a failure, but still in the page, so screen readers hear it fill. */\n.error:empty {\n  margin: 0;\n  padding: 0;\n}\n\n/* A preset's \"Try again\", under the alert that says why. */\n.retry {\n  margin-top: 0.75em;\n}\n\n/* Results */\n\n.results {\n  display: grid;\n  gap: 1.5em;\n  margin-top: 1.25em;\n}\n\n.section-title {\n  display: flex;\n  align-items: center;\n  gap: 0.5em;\n  margin-bottom: 0.6em;\n  font-size: 0.8em;\n  font-weight: 700;\n  letter-spacing: 0.06em;\n  text-transform: uppercase;\n  color: var(--_muted);\n}\n\n.list {\n  display: grid;\n  gap: 0.75em;\n  list-style: none;\n}\n\n.card {\n  position: relative;\n  padding: 0.9em 1em;\n  background: var(--_bg);\n  border: 1px solid var(--_border);\n  border-radius: calc(var(--_radius) * 0.75);\n}\n\n/*\n * Numbered steps: the number sits in a circle in the card's left margin, or\n * when narrow at the start of the title.\n */\n.steps {\n  counter-reset: step;\n}\n\n.step {\n  counter-increment: step;\n  padding-left: 3.2em;\n}\n\n.step-title::before {\n  content: counter(step);\n  position: absolute;\n  top: 0.85em;\n  left: 0.9em;\n  display: grid;\n  place-items: center;\n  width: 1.6em;\n  height: 1.6em;\n  font-size: 0.95em;\n  font-weight: 700;\n  line-height: 1;\n  color: var(--_accent-text);\n  background: var(--_accent);\n  border-radius: 50%;\n}\n\n@container (max-width: 26em) {\n  .card {\n    padding-right: 0.8em;\n    padding-left: 0.8em;\n  }\n\n  .step-title::before {\n    position: static;\n    display: inline-grid;\n    margin-right: 0.4em;\n    vertical-align: 0.05em;\n  }\n}\n\n.step-head {\n  display: flex;\n  flex-wrap: wrap;\n  align-items: baseline;\n  justify-content: space-between;\n  gap: 0.25em 0.75em;\n}\n\n.step-title {\n  font-size: 1.05em;\n  font-weight: 650;\n  line-height: 1.35;\n}\n\n.when {\n  flex: none;\n  display: inline-block;\n  padding: 0.1em 0.6em;\n  font-size: 0.8em;\n  font-weight: 600;\n  white-space: nowrap;\n  color: var(--_accent);\n  background: color-mix(in srgb, var(--_accent) 10%, var(--_bg));\n  border-radius: 999px;\n}\n\n.when[data-urgency=\"later\"] {\n  color: var(--_muted);\n  background: var(--_surface);\n}\n\n.detail {\n  margin-top: 0.35em;\n}\n\n.because {\n  margin-top: 0.4em;\n  color: var(--_muted);\n  font-size: 0.9em;\n}\n\n.because b {\n  font-weight: 600;\n}\n\n/* Sources: collapsed by default. */\n\n.sources {\n  margin-top: 0.6em;\n  font-size: 0.9em;\n}\n\nsummary {\n  display: inline-flex;\n  align-items: center;\n  gap: 0.35em;\n  min-height: 1.9em;\n  font-weight: 600;\n  color: var(--_accent);\n  cursor: pointer;\n  list-style: none;\n}\n\nsummary::-webkit-details-marker {\n  display: none;\n}\n\nsummary::before {\n  content: \"\";\n  width: 0.45em;\n  height: 0.45em;\n  margin: 0 0.2em 0 0.1em;\n  border-right: 2px solid currentColor;\n  border-bottom: 2px solid currentColor;\n  transform: rotate(-45deg);\n  transition: transform 0.15s;\n}\n\ndetails[open] > summary::before {\n  transform: rotate(45deg);\n}\n\n.quotes {\n  display: grid;\n  gap: 0.6em;\n  margin-top: 0.4em;\n  list-style: none;\n}\n\n.quote {\n  padding: 0.5em 0.8em;\n  background: var(--_surface);\n  border-left: 3px solid var(--_accent);\n  border-radius: 0 calc(var(--_radius) * 0.4) calc(var(--_radius) * 0.4) 0;\n}\n\n.quote blockquote {\n  font-style: italic;\n}\n\n.quote blockquote::before {\n  content: \"\\201C\";\n}\n\n.quote blockquote::after {\n  content: \"\\201D\";\n}\n\n.quote figcaption {\n  margin-top: 0.25em;\n  color: var(--_muted);\n  font-size: 0.92em;\n}\n\n.quote cite {\n  font-style: normal;\n}\n\n.publisher {\n  font-weight: 600;\n  color: var(--_text);\n}\n\n.satire {\n  border-left-color: var(--_warn);\n}\n\n/* \"Not that\" warnings and plan verdicts */\n\n.warning {\n  background: var(--_warn-bg);\n  border-color: color-mix(in srgb, var(--_warn) 25%, var(--_bg));\n}\n\n/* The \"Not that\" warnings, collapsed behind a toggle unless the site chose otherwise. */\n.avoid > summary {\n  color: var(--_warn);\n}\n\n.avoid[open] > summary {\n  margin-bottom: 0.5em;\n}\n\n.warning .sources summary {\n  color: var(--_warn);\n}\n\n.warning .quote {\n  background: var(--_bg);\n}\n\n.line {\n  display: flex;\n  flex-wrap: wrap;\n  align-items: baseline;\n  gap: 0.3em 0.6em;\n}\n\n.badge {\n  flex: none;\n  display: inline-block;\n  padding: 0.1em 0.6em;\n  font-size: 0.78em;\n  font-weight: 700;\n  letter-spacing: 0.03em;\n  text-transform: uppercase;\n  white-space: nowrap;\n  border-radius: 999px;\n}\n\n.badge-ok {\n  color: var(--_ok);\n  background: var(--_ok-bg);\n}\n\n.badge-reject {\n  color: var(--_reject);\n  background: var(--_reject-bg);\n}\n\n.badge-warn {\n  color: var(--_warn);\n  background: color-mix(in srgb, var(--_warn) 14%, var(--_bg));\n}\n\n.rejected-advice {\n  font-style: italic;\n}\n\n.reason {\n  margin-top: 0.35em;\n}\n\n.reason::first-letter {\n  text-transform: uppercase;\n}\n\n.instead {\n  margin-top: 0.35em;\n  font-size: 0.92em;\n}\n\n.instead b {\n  font-weight: 600;\n}\n\n.plan-text {\n  font-weight: 600;\n  white-space: pre-wrap;\n}\n\n.plan-reject {\n  border-left: 4px solid var(--_reject);\n}\n\n.plan-ok {\n  border-left: 4px solid var(--_ok);\n}\n\n/* Not in English, so not checked: its \"ok\" is no verdict. */\n.plan-unread {\n  border-left: 4px solid var(--_warn);\n}\n\n.categories {\n  margin-top: 0.35em;\n  color: var(--_muted);\n  font-size: 0.85em;\n}\n\n.foot {\n  color: var(--_muted);\n  font-size: 0.8em;\n}\n\n/* What's next: the actions that start later, one line each. */\n.upcoming {\n  gap: 0.4em;\n  counter-reset: none;\n}\n\n.next {\n  display: flex;\n  flex-wrap: wrap;\n  align-items: baseline;\n  justify-content: space-between;\n  gap: 0.2em 0.75em;\n  padding: 0.5em 0.8em;\n  background: var(--_surface);\n  border-radius: calc(var(--_radius) * 0.5);\n}\n\n.next-title {\n  font-weight: 600;\n}\n\n/* \"Draft it\": a toggle in the step's card, opening the details, then the draft. */\n.draft {\n  margin-top: 0.4em;\n  font-size: 0.95em;\n}\n\n.draft-body {\n  display: grid;\n  gap: 0.75em;\n  margin-top: 0.5em;\n  padding: 0.9em min(0.9em, 3.5%);\n  background: var(--_surface);\n  border-radius: calc(var(--_radius) * 0.5);\n  container-type: inline-size;\n}\n\n.draft-form {\n  display: grid;\n  gap: 0.75em;\n}\n\n.draft-grid {\n  display: grid;\n  grid-template-columns: repeat(auto-fill, minmax(min(100%, 13em), 1fr));\n  gap: 0.75em 1em;\n}\n\n.draft-body .status,\n.draft-body .error {\n  margin-top: 0;\n}\n\n.draft-output {\n  display: grid;\n  gap: 0.75em;\n}\n\n.draft-kind {\n  font-weight: 600;\n}\n\n.draft-text {\n  min-height: 9em;\n  line-height: 1.45;\n}\n\n.copy {\n  display: inline-flex;\n  align-items: center;\n  justify-content: center;\n  min-height: 2.5em;\n  padding: 0.45em 1.1em;\n  font-weight: 600;\n  color: var(--_accent);\n  background: var(--_bg);\n  border: 1px solid var(--_accent);\n  border-radius: calc(var(--_radius) * 0.5);\n  cursor: pointer;\n}\n\n.mailto {\n  font-weight: 600;\n  color: var(--_accent);\n  text-decoration: underline;\n  text-underline-offset: 0.15em;\n}\n\n@media print {\n  .ia {\n    display: block;\n  }\n}\n\n@media (prefers-reduced-motion: reduce) {\n  summary::before {\n    transition: none;\n  }\n}\n\n@media (forced-colors: active) {\n  .step-title::before,\n  .badge,\n  .when,\n  .copy {\n    border: 1px solid CanvasText;\n  }\n}\n";
  // The stylesheet to link without constructable stylesheets, beside this script:
  // a pinned release (widget-1.2.0.js) names its own (widget-1.2.0.css).
  const CSS_FILE = "widget-1.2.0.css";

  const REQUEST_TIMEOUT_MS = 15000;
  // A preset widget refused with a 429 asks again by itself once, when the
  // Retry-After has passed (and a moment more), if that is this soon.
  const AUTO_RETRY_MAX_SECONDS = 300;
  const AUTO_RETRY_MARGIN_MS = 500;

  // How the "Not that" warnings are shown (the `avoid` attribute); the first is the default.
  const AVOID_MODES = ["collapsed", "open", "hidden"];

  // The actions with a ready-to-edit draft (POST /v1/drafts), as the API names them.
  const DRAFT_ACTIONS = ["send-thank-you", "follow-up", "follow-up-via-recruiter", "ask-for-feedback", "withdraw-politely", "connect-on-linkedin", "call-recruiter"];
  // The details a draft may carry, all optional: [field, label, hint].
  const DRAFT_DETAILS = [
    ["candidate_name", "Your name", null],
    ["recipient_name", "Their name", "The person the draft is for."],
    ["role", "Role", null],
    ["company", "Company", null],
    ["highlight", "Something to remind them of", "A strength that fits the role, or a better answer to a question you found hard."],
  ];
  const MAX_DETAIL_CHARS = 200;
  // The details that stay true from one draft to the next (not whom it is for, or what to stress).
  const SHARED_DETAILS = ["candidate_name", "role", "company"];
  // What a draft is, by channel: the text area's label and what it is sent as.
  const DRAFT_KINDS = {
    email: ["Message", (to) => `An email to the ${to}`],
    linkedin: ["Connection note", (to) => `A LinkedIn connection note to the ${to}`],
    phone: ["Talking points", (to) => `Talking points for your call to the ${to}`],
  };

  // What the widget says when no advice comes, in its own words.
  const UNREACHABLE = "The advice service could not be reached. Check your connection, then try again.";
  const UNREADABLE = "The answer from the advice service could not be read. Please try again in a moment.";
  const TIMED_OUT = "The advice service took too long to answer. Please try again.";
  const CHECK_ANSWERS = "Please check your answers:";
  const CHECK_PRESET = "The advice service could not take the details this page gave:";
  const CHECK_DETAILS = "Please check these details:";
  const NOT_COPIED = "Selected: press Ctrl+C (or ⌘C on a Mac) to copy it.";

  const STAGES = [
    ["after", "Finished, waiting to hear"],
    ["closing", "Still in the room, wrapping up"],
    ["next_round", "Invited to another round"],
    ["offer", "Offered the job"],
    ["rejected", "Not successful this time"],
  ];

  const DONE = [
    ["asked_next_steps", "Asked about next steps"],
    ["thank_you_sent", "Sent a thank-you"],
    ["notes_written", "Wrote notes"],
    ["referees_briefed", "Briefed my referees"],
    ["linkedin_connected", "Connected on LinkedIn"],
    ["feedback_received", "Got feedback"],
  ];

  const INTEREST = [
    ["yes", "Yes"],
    ["unsure", "Not sure"],
    ["no", "No"],
  ];

  // The interview state's fields (API v1) and how an attribute's text becomes each.
  const FIELDS = {
    stage: "text",
    hours_since: "number",
    interview_ended_at: "text",
    now: "text",
    via_agency: "flag",
    decision_expected_in_days: "number",
    asked_next_steps: "flag",
    thank_you_sent: "flag",
    follow_ups_sent: "number",
    notes_written: "flag",
    feedback_received: "flag",
    final_round: "flag",
    referees_briefed: "flag",
    linkedin_connected: "flag",
    still_interested: "text",
    competing_offers: "number",
    plans: "lines",
  };

  const attributeName = (field) => field.replaceAll("_", "-");

  // Form labels by field, to name the field an API error is about.
  const LABELS = {
    stage: "Where are you now?",
    hours_since: "Hours since it ended",
    interview_ended_at: "When it ended",
    decision_expected_in_days: "Decision promised within (days)",
    follow_ups_sent: "Follow-ups already sent",
    still_interested: "Still want the job?",
    competing_offers: "Other offers in hand",
    plans: "Your plans",
    $: "Your answers",
    ...Object.fromEntries(DONE),
  };

  // Labels of the details a draft may carry, to name the one an API error is about.
  const DETAIL_LABELS = Object.fromEntries(DRAFT_DETAILS.map(([name, label]) => [name, label]));

  // The label of the field an error names: "plans.3", "details.role", "state.stage".
  // Only a table's own labels: a server may name any field, `constructor` or
  // `__proto__` among them, which a plain object finds on its prototype.
  function labelOf(name) {
    const [head, sub] = name.split(".");
    const own = (labels, field) => (Object.hasOwn(labels, field) ? labels[field] : name);
    if (head === "details") return own(DETAIL_LABELS, sub);
    if (head === "state") return own(LABELS, sub);
    return own(LABELS, head);
  }

  /*
   * el("p", {className: "x", for: "id"}, "text", child): an element whose
   * children are nodes or strings, strings becoming Text nodes (never HTML).
   * Properties in PROPS are set as properties, the rest as attributes.
   */
  const PROPS = new Set(["className", "type", "value", "checked", "hidden", "disabled", "open"]);

  function el(tag, props = {}, ...children) {
    const node = createElement(tag);
    for (const [name, value] of Object.entries(props)) {
      if (value === undefined || value === null || value === false) continue;
      if (PROPS.has(name)) node[name] = value;
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    node.append(...children.flat().filter(Boolean)); // false, 0, "" and null add nothing
    return node;
  }

  // A labelled control, with its hint (which the control is described by).
  function field(id, label, control, hint) {
    if (hint) control.setAttribute("aria-describedby", `${id}-hint`);
    return el(
      "div",
      { className: "field" },
      el("label", { className: "label", for: id }, label),
      control,
      hint && el("p", { className: "hint", id: `${id}-hint` }, hint),
    );
  }

  // One shared constructable stylesheet for every instance.
  let sharedSheet = null;

  function adoptStyles(root) {
    if (CSS !== null && "adoptedStyleSheets" in ShadowRoot.prototype) {
      if (!sharedSheet) {
        sharedSheet = new CSSStyleSheet();
        sharedSheet.replaceSync(CSS);
      }
      root.adoptedStyleSheets = [sharedSheet];
      return Promise.resolve();
    }
    const link = el("link", { rel: "stylesheet", href: new URL(CSS_FILE, SCRIPT_URL).href });
    root.append(link);
    return new Promise((resolve) => {
      link.addEventListener("load", resolve, { once: true });
      link.addEventListener("error", resolve, { once: true });
    });
  }

  /*
   * A number as the candidate typed it. A decimal comma is read as a point
   * ("1,5" is 1.5), as it is written in much of the world; a comma before
   * exactly three digits ("1,500") could be either, so it, and anything else
   * that is not a plain number, is sent as written for the API to name the
   * field. (A number input would drop the comma and send 15.)
   */
  function readNumber(text) {
    if (/^[+-]?\d+,(\d{1,2}|\d{4,})$/.test(text)) return Number(text.replace(",", "."));
    return /^[+-]?(\d+\.?\d*|\.\d+)$/.test(text) ? Number(text) : text;
  }

  // "2026-11-20T16:30" (a datetime-local value, local time) -> RFC 3339 with the local offset.
  function localToRfc3339(value) {
    const withSeconds = value.length === 16 ? `${value}:00` : value;
    const minutes = -new Date(withSeconds).getTimezoneOffset();
    const sign = minutes < 0 ? "-" : "+";
    const pad = (n) => String(Math.floor(Math.abs(n))).padStart(2, "0");
    return `${withSeconds}${sign}${pad(minutes / 60)}:${pad(minutes % 60)}`;
  }

  // Now as a datetime-local value, the latest an interview can have ended.
  function localNow() {
    const now = new Date();
    now.setMinutes(now.getMinutes() - now.getTimezoneOffset());
    return now.toISOString().slice(0, 16);
  }

  // A wait in words, rounded to its unit: down for the time left before a
  // deadline (never more than there is), up for the time before a window opens
  // (never sooner than it does).
  function duration(hours, round) {
    const to = (x) => round(x - (round === Math.ceil ? 1e-9 : -1e-9));
    if (hours < 1) return `${Math.max(1, to(hours * 60))} min`;
    const n = to(hours);
    if (n < 48) return `${n} hour${n === 1 ? "" : "s"}`;
    const days = to(hours / 24);
    return `${days} day${days === 1 ? "" : "s"}`;
  }

  // The widget speaks English, so dates do too, in the reader's kind of English.
  const LOCALE = navigator.languages?.find((tag) => /^en\b/i.test(tag)) ?? "en-GB";
  const DATE_FORMAT = new Intl.DateTimeFormat(LOCALE, {
    weekday: "short",
    day: "numeric",
    month: "short",
    hour: "numeric",
    minute: "2-digit",
  });

  const formatDate = (iso) => DATE_FORMAT.format(new Date(iso));
  const TIME_FORMAT = new Intl.DateTimeFormat(LOCALE, { hour: "numeric", minute: "2-digit" });

  const count = (n, one, many) => `${n} ${n === 1 ? one : many}`;

  // The seconds to wait from a Retry-After header (seconds or an HTTP date), at least 1; null without one.
  function retrySeconds(header) {
    const value = header?.trim();
    if (!value) return null;
    const wait = /^\d+$/.test(value) ? Number(value) : (Date.parse(value) - Date.now()) / 1000;
    if (!Number.isFinite(wait)) return null;
    return Math.max(1, Math.ceil(wait));
  }

  // When to try again, in words: "in 42 seconds", "in 3 minutes", "after 14:05".
  function retryWhen(seconds) {
    if (seconds < 60) return `in ${count(seconds, "second", "seconds")}`;
    if (seconds < 3600) return `in ${count(Math.ceil(seconds / 60), "minute", "minutes")}`;
    return `after ${TIME_FORMAT.format(new Date(Date.now() + seconds * 1000))}`;
  }

  const tooMany = (what) => `Too many requests for ${what} have come from here just now.`;

  // Whether a failed answer's status is worth asking again as it was: a
  // timeout, too many requests, or the server's (or a proxy's) trouble.
  const retryable = (status) => status === 408 || status === 429 || status >= 500;

  /*
   * Why an answer that is not a success brought no advice (or no draft: `what`).
   * `preset`: the request came from the page's attributes, not from answers
   * the candidate can check.
   */
  function failure(response, what, preset) {
    const { status } = response;
    const seconds = retrySeconds(response.headers.get("Retry-After"));
    const when = seconds === null ? null : retryWhen(seconds);
    if (status === 429) return `${tooMany(what)} Please try again ${when ?? "in a minute"}.`;
    if (status >= 500) {
      return `The advice service is having trouble (error ${status}). Please try again ${when ?? "in a moment"}.`;
    }
    const cannot = `The advice service could not take this request (error ${status}).`;
    if (status === 408) return `${cannot} Please try again.`;
    return preset ? cannot : `${cannot} Please check your answers and try again.`;
  }

  // Whether a successful answer's body is advice the widget can show.
  // `upcoming` is newer than the rest: a server without it has nothing coming up to show.
  const isAdvice = (body) =>
    Array.isArray(body?.actions) &&
    Array.isArray(body.avoid) &&
    Array.isArray(body.plans) &&
    (body.upcoming === undefined || Array.isArray(body.upcoming));

  // Whether a successful answer's body is a draft the widget can show.
  const isDraft = (body) =>
    typeof body?.body === "string" && Object.hasOwn(DRAFT_KINDS, body.channel) && Array.isArray(body.guidance);

  /*
   * When to act, in words, and whether it is pressing. The window is in hours
   * after the interview ended; `hoursSince` is where the candidate is now.
   */
  function timing(action, hoursSince) {
    const { start_hours: start, end_hours: end } = action.window;
    if (end === null) {
      if (start <= hoursSince) return ["Ongoing", "later"];
      const from = action.due ? formatDate(action.due) : `in ${duration(start - hoursSince, Math.ceil)}`;
      return [`From ${from}`, "later"];
    }
    if (end <= hoursSince) return ["Now", "now"];
    if (start > hoursSince) {
      const from = action.due ? "" : ` in ${duration(start - hoursSince, Math.ceil)}`;
      return [action.due ? `By ${formatDate(action.due)}` : `Starting${from}`, "later"];
    }
    const left = end - hoursSince;
    const urgency = left <= 24 ? "now" : "later";
    if (action.due) return [`By ${formatDate(action.due)}`, urgency];
    return [`Within ${duration(left, Math.floor)}`, urgency];
  }

  // "take-time-out" -> "Take time out": a name for an action the answer does not list.
  const humanise = (id) => {
    const words = id.replaceAll(/[-_]+/g, " ").trim();
    return words.charAt(0).toUpperCase() + words.slice(1);
  };

  /*
   * Why no answer came. `retry` is null when asking again as it was cannot
   * help (a refusal of the request itself); else `{ status, seconds }`: the
   * HTTP status (0 for no answer at all) and the Retry-After in seconds, or null.
   */
  class ApiError extends Error {
    constructor(message, fields = {}, retry = null) {
      super(message);
      this.fields = fields;
      this.retry = retry;
    }
  }

  // What an alert region says when no answer came: why, then each field's problem.
  function problemNodes(problem, timedOut, check) {
    const fields = problem instanceof ApiError ? problem.fields : {};
    const items = Object.entries(fields).map(([name, messages]) =>
      el("li", {}, `${labelOf(name)} – ${[].concat(messages).join(" ")}`),
    );
    let message = UNREADABLE; // an answer that broke the widget
    if (timedOut) message = TIMED_OUT;
    else if (items.length) message = check;
    else if (problem instanceof ApiError) message = problem.message;
    const parts = [el("p", {}, message)];
    if (items.length) parts.push(el("ul", {}, items));
    return parts;
  }

  // Marks the controls of `form` that the errors in `fields` name, and only those.
  function markInvalid(form, fields) {
    if (!form) return;
    for (const control of form.querySelectorAll("[aria-invalid]")) {
      control.removeAttribute("aria-invalid");
    }
    for (const name of Object.keys(fields)) {
      const [head, sub] = name.split(".");
      const control = form.elements.namedItem(head === "details" ? sub : head);
      if (control instanceof HTMLElement) control.setAttribute("aria-invalid", "true");
    }
  }

  // A mailto: link's address for an email with no recipient address yet (RFC 6068).
  function mailto(subject, body) {
    const encode = (text) => encodeURIComponent(text.replaceAll(/\r?\n/g, "\r\n"));
    return `mailto:?subject=${encode(subject)}&body=${encode(body)}`;
  }

  // Copies the text of `area`: with the clipboard API, else by selecting it
  // and the browser's copy command. Whether it was copied.
  async function copyText(area) {
    try {
      await navigator.clipboard.writeText(area.value);
      return true;
    } catch {
      area.focus();
      area.select();
      try {
        return execCommand("copy");
      } catch {
        return false;
      }
    }
  }

  /*
   * Shows `draft` in `view.output`: the subject (an email's), the text in a
   * text area, a button that copies it, a mailto: link for an email (kept up
   * with the candidate's edits) and the article advice it follows. The text
   * area, which is where the candidate goes next.
   */
  function showDraft(output, draft, view) {
    const { prefix, status } = view;
    const [label, kind] = DRAFT_KINDS[draft.channel];
    const unfilled = draft.unfilled?.length
      ? "Fill in the words in [square brackets], then copy it."
      : "Edit it as you like, then copy it.";
    const text = el("textarea", {
      id: `${prefix}-text`,
      className: "draft-text",
      rows: Math.min(16, Math.max(5, draft.body.split("\n").length + 1)),
      value: draft.body,
    });
    const subject =
      draft.channel === "email" &&
      el("input", { type: "text", id: `${prefix}-subject`, className: "draft-subject", value: draft.subject ?? "" });
    const copy = el("button", { type: "button", className: "copy" }, `Copy ${label.toLowerCase()}`);
    copy.addEventListener("click", async () => {
      status.textContent = "";
      const copied = await copyText(text);
      status.textContent = copied ? `${label} copied.` : NOT_COPIED;
    });
    const link =
      subject && el("a", { className: "mailto", href: mailto(subject.value, text.value) }, "Open in your email app");
    if (link) {
      const update = () => link.setAttribute("href", mailto(subject.value, text.value));
      subject.addEventListener("input", update);
      text.addEventListener("input", update);
    }
    const parts = [
      el("p", { className: "draft-kind" }, kind(draft.recipient)),
      subject && field(`${prefix}-subject`, "Subject", subject),
      field(`${prefix}-text`, label, text, unfilled),
      el("div", { className: "actions-bar" }, copy, link),
      draft.guidance.length > 0 && sources(draft.guidance, "What this draft follows"),
    ];
    output.replaceChildren(...parts.filter(Boolean));
    output.hidden = false;
    return text;
  }

  class InterviewAdvice extends HTMLElement {
    static get observedAttributes() {
      return ["api", "heading", "avoid", ...Object.keys(FIELDS).map(attributeName)];
    }

    #root;
    #ui = null;
    #request = null;
    #asking = null; // the state #request asks about
    #pending = false;
    #advice = null; // the advice shown, to show again when `avoid` changes
    #asked = null; // the state it answers, which drafts are written for
    #details = {}; // the details given for the last draft, some offered again for the next
    #drafting = new Map(); // the draft requests in flight, each with a way to send it again
    #resume = []; // what was being asked when the widget left the page, to ask again when it is back
    #retryTimer = null; // a preset's one automatic retry after a 429, while it waits
    #retriedAlone = false; // whether this preset state has had its automatic retry

    constructor() {
      super();
      this.#root = this.attachShadow({ mode: "open" });
    }

    connectedCallback() {
      if (!this.#ui) {
        this.#ui = this.#build();
        this.#ui.frame.hidden = true; // until the stylesheet applies: no flash of unstyled form
        adoptStyles(this.#root).then(() => {
          this.#ui.frame.hidden = false;
        });
        this.#root.append(this.#ui.frame);
      }
      const resume = this.#resume;
      this.#resume = [];
      if (this.#preset) this.#schedule();
      else for (const again of resume) again();
    }

    /*
     * Taken off the page, perhaps only to be put back at once (a single-page
     * app's route change): each request in flight is forgotten, then aborted,
     * so its end says nothing (it did not time out), and the widget is left
     * ready. Back on the page, a form asks again; a preset asks anew anyway.
     */
    disconnectedCallback() {
      this.#cancelRetry();
      const request = this.#request;
      if (request) {
        const state = this.#asking;
        this.#request = null;
        request.abort();
        this.#ready(this.#ui, this.#ui.results);
        if (!this.#preset) this.#resume.push(() => this.#advise(state));
      }
      for (const [draft, { view, again }] of this.#drafting) {
        if (view.request !== draft) continue;
        view.request = null;
        draft.abort();
        this.#ready(view, view.output);
        this.#resume.push(again);
      }
    }

    // No longer asking: no status, nothing busy, the buttons pressable.
    #ready({ status, form, retry }, busy) {
      status.textContent = "";
      busy.removeAttribute("aria-busy");
      form?.querySelector("button[type=submit]").removeAttribute("aria-disabled");
      retry?.firstChild.removeAttribute("aria-disabled");
    }

    attributeChangedCallback(name) {
      if (!this.#ui) return;
      if (name === "heading") {
        this.#ui.title.textContent = this.#heading;
        return;
      }
      if (name === "avoid") {
        if (this.#advice && !this.#ui.results.hidden) this.#render(this.#advice);
        return;
      }
      // Gaining or losing `stage` switches between form and preset: rebuild.
      if (Boolean(this.#ui.form) === this.#preset) {
        this.#cancelRetry();
        this.#ui.frame.remove();
        this.#ui = this.#build();
        this.#root.append(this.#ui.frame);
      }
      if (this.#preset) this.#schedule();
    }

    get #preset() {
      return this.hasAttribute("stage");
    }

    get #heading() {
      return this.getAttribute("heading") ?? "What to do after your interview";
    }

    get #avoid() {
      const given = this.getAttribute("avoid")?.trim().toLowerCase();
      return AVOID_MODES.includes(given) ? given : AVOID_MODES[0];
    }

    get #api() {
      const given = this.getAttribute("api");
      if (!given) return DEFAULT_API;
      return new URL(given.endsWith("/") ? given : `${given}/`, location.href).href;
    }

    // Several attribute changes in one task ask the API once; a new state may be retried once by itself.
    #schedule() {
      if (this.#pending) return;
      this.#pending = true;
      queueMicrotask(() => {
        this.#pending = false;
        this.#retriedAlone = false;
        this.#advise(this.#stateFromAttributes());
      });
    }

    #cancelRetry() {
      clearTimeout(this.#retryTimer);
      this.#retryTimer = null;
    }

    /*
     * After a preset's failure: "Try again" when asking again may help, and,
     * after a 429 with a Retry-After of at most AUTO_RETRY_MAX_SECONDS, one
     * request by itself when that has passed (once per state: never a loop).
     * The words the alert region says.
     */
    #offerRetry(problem, timedOut, state) {
      const { retry } = this.#ui;
      const again = timedOut ? { status: 0, seconds: null } : problem instanceof ApiError && problem.retry;
      retry.hidden = !again;
      retry.firstChild.removeAttribute("aria-disabled");
      if (!again) return null;
      const { status, seconds } = again;
      if (status !== 429 || seconds === null || seconds > AUTO_RETRY_MAX_SECONDS || this.#retriedAlone) return null;
      this.#retriedAlone = true;
      this.#retryTimer = setTimeout(() => {
        this.#retryTimer = null;
        this.#advise(state);
      }, seconds * 1000 + AUTO_RETRY_MARGIN_MS);
      return `${tooMany("advice")} Asking again by itself ${retryWhen(seconds)}.`;
    }

    #stateFromAttributes() {
      const state = {};
      for (const [field, kind] of Object.entries(FIELDS)) {
        const value = this.getAttribute(attributeName(field));
        if (value === null) continue;
        if (kind === "flag") state[field] = value.trim().toLowerCase() !== "false";
        else if (kind === "lines") state[field] = splitLines(value);
        else if (kind === "number") {
          // Not a number: sent as written, so the API says what is wrong with it.
          const number = value.trim() === "" ? Number.NaN : Number(value);
          state[field] = Number.isFinite(number) ? number : value;
        } else state[field] = value;
      }
      return state;
    }

    #build() {
      const title = el("h2", { className: "title" }, this.#heading);
      const head = el(
        "header",
        { className: "head" },
        title,
        el("p", { className: "subtitle" }, "Next steps backed by quotes from published advice."),
      );
      const status = el("p", { className: "status", role: "status", "aria-live": "polite" });
      // Always in the page, empty until a failure: a live region must exist before it speaks.
      const error = el("div", { className: "error", role: "alert", "aria-live": "assertive" });
      const results = el("section", { className: "results", "aria-label": "Your advice", hidden: true });
      const form = this.#preset ? null : this.#buildForm();
      // With no form to send again, a preset offers this after a failure worth retrying.
      const retry = form ? null : this.#buildRetry(results);
      const frame = el("div", { className: "ia", lang: "en" }, head, form, status, error, retry, results);
      return { frame, title, form, status, error, retry, results };
    }

    #buildRetry(results) {
      const button = el("button", { className: "submit", type: "button" }, "Try again");
      button.addEventListener("click", () => {
        if (button.getAttribute("aria-disabled") === "true") return; // already asking
        // Asked by the candidate: it may be followed by one retry by itself again.
        this.#retriedAlone = false;
        this.#advise(this.#stateFromAttributes());
      });
      // Once the advice comes, a candidate who asked from here goes on to read it.
      results.setAttribute("tabindex", "-1");
      return el("div", { className: "actions-bar retry", hidden: true }, button);
    }

    #buildForm() {
      const check = (name, label) =>
        el(
          "label",
          { className: "check" },
          el("input", { type: "checkbox", name, id: `ia-${name}` }),
          el("span", {}, label),
        );
      // Text, not type=number: a number input reads "1,5" as 15 (readNumber).
      const number = (name, attrs = {}) =>
        el("input", {
          type: "text",
          id: `ia-${name}`,
          name,
          inputmode: "numeric",
          autocomplete: "off",
          spellcheck: "false",
          ...attrs,
        });
      const options = (pairs) => pairs.map(([value, label]) => el("option", { value }, label));

      const stage = el("select", { id: "ia-stage", name: "stage" }, options(STAGES));
      const whenHours = field(
        "ia-hours_since",
        LABELS.hours_since,
        number("hours_since", { placeholder: "0", inputmode: "decimal" }),
      );
      const whenAt = field(
        "ia-interview_ended_at",
        LABELS.interview_ended_at,
        el("input", {
          type: "datetime-local",
          id: "ia-interview_ended_at",
          name: "interview_ended_at",
          max: localNow(),
          required: true,
          disabled: true,
        }),
      );
      whenAt.hidden = true; // until "At a date and time" is chosen
      const clock = (value, label, checked) =>
        el(
          "label",
          { className: "check" },
          el("input", { type: "radio", name: "clock", value, checked }),
          el("span", {}, label),
        );
      const when = el(
        "fieldset",
        { className: "field" },
        el("legend", {}, "When did it end?"),
        el(
          "div",
          { className: "choices" },
          clock("hours", "Some hours ago", true),
          clock("at", "At a date and time", false),
        ),
        whenHours,
        whenAt,
      );

      const more = el(
        "details",
        { className: "more" },
        el("summary", {}, "More about your situation"),
        el(
          "div",
          { className: "more-grid" },
          field(
            "ia-decision_expected_in_days",
            LABELS.decision_expected_in_days,
            number("decision_expected_in_days"),
          ),
          field("ia-follow_ups_sent", LABELS.follow_ups_sent, number("follow_ups_sent")),
          field(
            "ia-competing_offers",
            LABELS.competing_offers,
            number("competing_offers"),
          ),
          field(
            "ia-still_interested",
            LABELS.still_interested,
            el("select", { id: "ia-still_interested", name: "still_interested" }, options(INTEREST)),
          ),
          check("final_round", "It was the final round"),
        ),
      );

      const plans = el("textarea", {
        id: "ia-plans",
        name: "plans",
        rows: 3,
        placeholder: "e.g. Send a short thank-you email tonight",
      });

      const form = el(
        "form",
        { className: "form", "aria-label": "Your interview" },
        el(
          "div",
          { className: "row" },
          el(
            "div",
            { className: "stack" },
            field("ia-stage", LABELS.stage, stage),
            check("via_agency", "A recruitment agency arranged the interview"),
          ),
          when,
        ),
        el(
          "fieldset",
          { className: "field" },
          el("legend", {}, "Already done"),
          el(
            "div",
            { className: "checks" },
            DONE.map(([name, label]) => check(name, label)),
          ),
        ),
        more,
        field("ia-plans", "Anything you are planning to do?", plans, "One plan per line; each is checked for you."),
        el(
          "div",
          { className: "actions-bar" },
          el("button", { className: "submit", type: "submit" }, "Get advice"),
        ),
      );

      // Only the chosen way of giving the time is shown, enabled and sent.
      form.addEventListener("change", (event) => {
        if (event.target.name === "clock") {
          const byDate = event.target.value === "at";
          whenHours.hidden = byDate;
          whenAt.hidden = !byDate;
          whenHours.querySelector("input").disabled = byDate;
          whenAt.querySelector("input").disabled = !byDate;
        }
        // Still in the room: no end time to give (and none to validate).
        if (event.target.name === "stage") when.hidden = when.disabled = stage.value === "closing";
      });
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        // Asking already: the button stays focusable (screen readers keep their place).
        if (form.querySelector("button[type=submit]").getAttribute("aria-disabled") === "true") return;
        this.#advise(this.#stateFromForm(form));
      });
      return form;
    }

    #stateFromForm(form) {
      const data = new FormData(form); // disabled controls are left out
      const state = { stage: data.get("stage") };
      const numberOf = (name) => {
        const text = (data.get(name) ?? "").trim();
        return text === "" ? undefined : readNumber(text);
      };
      if (state.stage !== "closing") {
        const ended = data.get("interview_ended_at");
        if (ended) state.interview_ended_at = localToRfc3339(ended);
        else state.hours_since = numberOf("hours_since") ?? 0;
      }
      for (const name of ["decision_expected_in_days", "follow_ups_sent", "competing_offers"]) {
        const value = numberOf(name);
        if (value !== undefined) state[name] = value;
      }
      for (const [name] of [...DONE, ["via_agency"], ["final_round"]]) state[name] = data.has(name);
      state.still_interested = data.get("still_interested");
      state.plans = splitLines(data.get("plans") ?? "");
      return state;
    }

    async #advise(state) {
      const { status, error, results, form, retry } = this.#ui;
      this.#cancelRetry();
      this.#request?.abort();
      const request = new AbortController();
      this.#request = request;
      this.#asking = state;
      const timer = setTimeout(() => request.abort(), REQUEST_TIMEOUT_MS);
      const button = form?.querySelector("button[type=submit]");
      // Inert, not disabled: a disabled button would drop the focus of whoever pressed it.
      button?.setAttribute("aria-disabled", "true");
      // "Try again" stays where the candidate pressed it, inert until the answer; else it goes.
      const again = retry?.firstChild;
      const pressed = Boolean(again) && this.#root.activeElement === again;
      if (pressed) again.setAttribute("aria-disabled", "true");
      else if (retry) retry.hidden = true;
      markInvalid(form, {});
      error.replaceChildren();
      results.setAttribute("aria-busy", "true");
      status.textContent = "Getting your advice…";
      try {
        const advice = await this.#call("v1/advice", state, request.signal, "advice", !form);
        if (!isAdvice(advice)) throw new ApiError(UNREADABLE, {}, { status: 200, seconds: null });
        this.#asked = state;
        this.#render(advice);
        status.textContent = summary(advice, this.#avoid);
        if (retry) {
          retry.hidden = true;
          again.removeAttribute("aria-disabled");
          if (pressed) results.focus();
        }
      } catch (problem) {
        // Superseded by a newer request, or taken off the page: nothing to say.
        if (request.signal.aborted && (this.#request !== request || !this.isConnected)) return;
        results.hidden = true;
        status.textContent = "";
        const timedOut = request.signal.aborted;
        const nodes = problemNodes(problem, timedOut, form ? CHECK_ANSWERS : CHECK_PRESET);
        const waiting = retry && this.#offerRetry(problem, timedOut, state);
        if (waiting) nodes[0].textContent = waiting;
        error.replaceChildren(...nodes);
        markInvalid(form, problem.fields ?? {});
        // Nothing to press any more: back to the alert that says why.
        if (pressed && retry.hidden) {
          error.setAttribute("tabindex", "-1");
          error.focus();
        }
      } finally {
        clearTimeout(timer);
        if (this.#request === request) {
          this.#request = null;
          results.removeAttribute("aria-busy");
          button?.removeAttribute("aria-disabled");
        }
      }
    }

    // POST `body` to `path` of the API; the answer's JSON, or an ApiError saying why not.
    async #call(path, body, signal, what, preset = false) {
      let response;
      try {
        response = await fetch(new URL(path, this.#api), {
          method: "POST",
          mode: "cors",
          credentials: "omit",
          cache: "no-store",
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify(body),
          signal,
        });
      } catch (problem) {
        // Refused by CORS or by the network: the browser does not say which.
        if (signal.aborted) throw problem;
        throw new ApiError(UNREACHABLE, {}, { status: 0, seconds: null });
      }
      // A proxy's error page, or a body cut short, is not JSON.
      const answer = await response.json().catch(() => null);
      if (response.ok) return answer;
      const fields = answer?.errors;
      if (response.status === 422 && fields && typeof fields === "object" && Object.keys(fields).length) {
        throw new ApiError("", fields);
      }
      const { status } = response;
      const retry = retryable(status)
        ? { status, seconds: retrySeconds(response.headers.get("Retry-After")) }
        : null;
      throw new ApiError(failure(response, what, preset), {}, retry);
    }

    /*
     * "Draft it" for `action`: a toggle that opens a small form of optional
     * details; sent, it shows the draft to edit and copy. `state` is the
     * situation the advice was for. What it opens is built the first time it
     * opens, so an answer carries no forms or live regions nobody asked for.
     */
    #draftPanel(action, state) {
      const panel = el(
        "details",
        { className: "draft" },
        // Named with its action for a screen reader's list of controls, starting as it reads.
        el("summary", { "aria-label": `Draft it: ${action.title}` }, "Draft it"),
      );
      let view = null;
      panel.addEventListener("toggle", () => {
        if (!panel.open) return;
        if (!view) {
          view = this.#draftView(action, state);
          panel.append(view.body);
        }
        // Details given for another draft are offered again, where nothing is typed yet.
        for (const name of SHARED_DETAILS) {
          const input = view.form.elements.namedItem(name);
          if (!input.value && this.#details[name]) input.value = this.#details[name];
        }
      });
      return panel;
    }

    #draftView(action, state) {
      const prefix = `ia-draft-${action.id}`;
      const inputs = DRAFT_DETAILS.map(([name, label, hint]) =>
        field(
          `${prefix}-${name}`,
          label,
          el("input", {
            type: "text",
            id: `${prefix}-${name}`,
            name,
            maxlength: MAX_DETAIL_CHARS,
            autocomplete: name === "candidate_name" ? "name" : "off",
          }),
          hint,
        ),
      );
      const form = el(
        "form",
        { className: "draft-form", "aria-label": `Details for the draft: ${action.title}` },
        el("p", { className: "hint" }, "All optional: what you leave out shows in [square brackets] for you to fill in."),
        el("div", { className: "draft-grid" }, inputs),
        el("div", { className: "actions-bar" }, el("button", { className: "submit", type: "submit" }, "Write the draft")),
      );
      const view = {
        form,
        prefix,
        status: el("p", { className: "status", role: "status", "aria-live": "polite" }),
        error: el("div", { className: "error", role: "alert", "aria-live": "assertive" }),
        output: el("div", { className: "draft-output", hidden: true }),
        request: null,
      };
      view.body = el("div", { className: "draft-body" }, form, view.status, view.error, view.output);
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        if (form.querySelector("button[type=submit]").getAttribute("aria-disabled") === "true") return;
        this.#draft(action, state, view);
      });
      return view;
    }

    async #draft(action, state, view) {
      const { form, status, error, output } = view;
      const details = {};
      for (const [name] of DRAFT_DETAILS) {
        const value = form.elements.namedItem(name).value.trim();
        if (value) details[name] = value;
      }
      this.#details = details;
      view.request?.abort();
      const request = new AbortController();
      view.request = request;
      this.#drafting.set(request, { view, again: () => this.#draft(action, state, view) });
      const timer = setTimeout(() => request.abort(), REQUEST_TIMEOUT_MS);
      const button = form.querySelector("button[type=submit]");
      button.setAttribute("aria-disabled", "true"); // inert, keeping the focus (see #advise)
      markInvalid(form, {});
      error.replaceChildren();
      output.setAttribute("aria-busy", "true");
      status.textContent = "Writing your draft…";
      // The candidate's plans have been vetted with the advice: a draft does not need them.
      const { plans, ...situation } = state;
      try {
        const draft = await this.#call(
          "v1/drafts",
          { state: situation, action: action.id, details },
          request.signal,
          "drafts",
        );
        if (!isDraft(draft)) throw new ApiError(UNREADABLE);
        const text = showDraft(output, draft, view);
        status.textContent = `Draft ready: ${DRAFT_KINDS[draft.channel][1](draft.recipient).toLowerCase()}. Edit it, then copy it.`;
        // From the top, where the candidate starts reading.
        text.setSelectionRange(0, 0);
        text.focus();
        text.scrollTop = 0;
      } catch (problem) {
        if (request.signal.aborted && (view.request !== request || !this.isConnected)) return;
        status.textContent = "";
        error.replaceChildren(...problemNodes(problem, request.signal.aborted, CHECK_DETAILS));
        const fields = problem.fields ?? {};
        markInvalid(form, fields);
        // Back to what needs changing, or to the button to try again.
        const first = form.querySelector("[aria-invalid=true]") ?? button;
        button.removeAttribute("aria-disabled");
        first.focus();
      } finally {
        clearTimeout(timer);
        this.#drafting.delete(request);
        if (view.request === request) {
          output.removeAttribute("aria-busy");
          button.removeAttribute("aria-disabled");
        }
      }
    }

    #render(advice) {
      const { results } = this.#ui;
      this.#advice = advice;
      const titles = new Map(advice.actions.map((a) => [a.id, a.title]));
      const nameOf = (id) => titles.get(id) ?? humanise(id);
      const section = (label, list) =>
        el("section", { "aria-label": label }, el("h3", { className: "section-title" }, label), list);

      const state = this.#asked;
      const draftIt = (action) => DRAFT_ACTIONS.includes(action.id) && state && this.#draftPanel(action, state);
      const parts = [];
      if (advice.actions.length) {
        parts.push(
          section(
            "Do this next",
            el("ol", { className: "list steps" }, advice.actions.map((a) => step(a, advice.hours_since, draftIt(a)))),
          ),
        );
      } else {
        parts.push(el("p", {}, "Nothing needs doing right now."));
      }
      const upcoming = advice.upcoming ?? [];
      if (upcoming.length) {
        parts.push(section("What's next", el("ol", { className: "list upcoming" }, upcoming.map(nextStep))));
      }
      const avoid = this.#avoid;
      if (advice.avoid.length && avoid !== "hidden") {
        const list = el("ul", { className: "list" }, advice.avoid.map((a) => warning(a, nameOf)));
        const things = count(advice.avoid.length, "thing to avoid", "things to avoid");
        const shown =
          avoid === "open" ? list : el("details", { className: "avoid" }, el("summary", {}, things), list);
        parts.push(section("Not that", shown));
      }
      if (advice.plans.length) {
        parts.push(section("Your plans", el("ul", { className: "list" }, advice.plans.map((p) => plan(p, nameOf)))));
      }
      parts.push(
        el(
          "p",
          { className: "foot" },
          `Every step quotes its sources. Rules version ${advice.ruleset.version}.`,
        ),
      );
      results.replaceChildren(...parts);
      results.hidden = false;
    }
  }

  function splitLines(text) {
    return text
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter(Boolean);
  }

  function summary(advice, avoid) {
    const parts = [count(advice.actions.length, "step to take", "steps to take")];
    const later = advice.upcoming?.length;
    if (later) parts.push(`${count(later, "more", "more")} coming later`);
    if (advice.avoid.length && avoid !== "hidden") parts.push(count(advice.avoid.length, "thing to avoid", "things to avoid"));
    const plans = advice.plans.length;
    const rejected = advice.plans.filter((p) => p.verdict === "reject").length;
    const unchecked = advice.plans.filter(unread).length;
    if (plans === 1)
      parts.push(rejected ? "your plan is not advised" : unchecked ? "your plan could not be checked" : "your plan looks fine");
    else if (plans && !rejected && !unchecked) parts.push(`all ${plans} plans look fine`);
    else if (plans) {
      const told = rejected ? [`${rejected} of ${plans} plans not advised`] : [];
      if (unchecked) told.push(rejected ? `${unchecked} not checked` : `${unchecked} of ${plans} plans not checked`);
      parts.push(told.join(", "));
    }
    return `Advice ready: ${parts.join(", ")}.`;
  }

  function sources(citations, label) {
    const quotes = citations.map((c) =>
      el(
        "li",
        {},
        el(
          "figure",
          { className: c.nature === "satirical" ? "quote satire" : "quote" },
          el("blockquote", {}, c.quote),
          el(
            "figcaption",
            {},
            el("span", { className: "publisher" }, c.publisher),
            ", ",
            el("cite", {}, c.title),
            c.nature === "satirical" ? " (satire)" : null,
          ),
        ),
      ),
    );
    return el(
      "details",
      { className: "sources" },
      el("summary", {}, `${label} (${citations.length})`),
      el("ul", { className: "quotes" }, quotes),
    );
  }

  function step(action, hoursSince, draft) {
    const [when, urgency] = timing(action, hoursSince);
    return el(
      "li",
      { className: "card step" },
      el(
        "div",
        { className: "step-head" },
        el("h4", { className: "step-title" }, action.title),
        el("span", { className: "when", "data-urgency": urgency }, when),
      ),
      el("p", { className: "detail" }, action.detail),
      action.because && el("p", { className: "because" }, el("b", {}, "Why: "), action.because),
      sources(action.sources, "Sources"),
      draft,
    );
  }

  // An action that starts later: when, as a date and time in the reader's zone
  // when the interview's end was given, else as a wait ("in 3 days").
  function nextStep(action) {
    const when = action.starts
      ? el("time", { datetime: action.starts }, formatDate(action.starts))
      : `in ${duration(action.starts_in_hours, Math.ceil)}`;
    return el(
      "li",
      { className: "next" },
      el("span", { className: "next-title" }, action.title),
      el("span", { className: "when", "data-urgency": "later" }, when),
    );
  }

  function warning(avoid, nameOf) {
    return el(
      "li",
      { className: "card warning" },
      el(
        "p",
        { className: "line" },
        el("span", { className: "badge badge-warn" }, humanise(avoid.category)),
        el("q", { className: "rejected-advice" }, avoid.advice),
      ),
      el("p", { className: "reason" }, avoid.reason),
      avoid.instead.length &&
        el("p", { className: "instead" }, el("b", {}, "Instead: "), avoid.instead.map(nameOf).join("; ")),
      avoid.sources.length && sources(avoid.sources, "Where this advice appears"),
    );
  }

  // A plan the screen does not read (not in English: `english` false) has an "ok" that
  // is no verdict, so it is shown as not checked rather than fine.
  function unread(verdict) {
    return verdict.verdict !== "reject" && verdict.english === false;
  }

  function plan(verdict, nameOf) {
    const rejected = verdict.verdict === "reject";
    const [kind, badge, label] = rejected
      ? ["reject", "badge-reject", "Not advised"]
      : unread(verdict)
        ? ["unread", "badge-warn", "Not checked"]
        : ["ok", "badge-ok", "Fine"];
    return el(
      "li",
      { className: `card plan-${kind}` },
      el(
        "p",
        { className: "line" },
        el("span", { className: `badge ${badge}` }, label),
        el("span", { className: "plan-text" }, verdict.text),
      ),
      kind === "unread" &&
        el("p", { className: "reason" }, "It is not in English, the only language the checker reads: write it in English to have it checked."),
      verdict.reason && el("p", { className: "reason" }, verdict.reason),
      verdict.instead?.length &&
        el("p", { className: "instead" }, el("b", {}, "Instead: "), verdict.instead.map(nameOf).join("; ")),
      verdict.categories.length > 0 &&
        el("p", { className: "categories" }, `Concerns: ${verdict.categories.map(humanise).join(", ")}`),
    );
  }

  customElements.define(TAG, InterviewAdvice);
})();
