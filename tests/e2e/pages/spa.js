// A single-page app's router: each route change replaces the view, so the widgets of
// the advice route are made anew each time it is shown. Two on one page: the form, and
// one preset for a candidate five days on with a plan to screen.
const routes = {
  "#/advice": () => {
    const form = document.createElement("interview-advice");
    form.id = "asked";
    const preset = document.createElement("interview-advice");
    preset.id = "preset";
    preset.setAttribute("heading", "Five days on");
    preset.setAttribute("stage", "after");
    preset.setAttribute("hours-since", "120");
    preset.setAttribute("plans", "Three pints, then drive home");
    return [form, preset];
  },
  "#/jobs": () => {
    const text = document.createElement("p");
    text.textContent = "No openings this week.";
    return [text];
  },
};

function show() {
  const view = routes[location.hash] ?? routes["#/advice"];
  document.getElementById("view").replaceChildren(...view());
}

addEventListener("hashchange", show);
show();
