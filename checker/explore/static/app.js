// The kafkacheck explorer page: plain JavaScript, no library. Every value is shown through
// textContent, so nothing the model prints is ever read as HTML.
"use strict";

let current = null;     // the last /api/state answer
let ahead = [];         // the path we came back from: forward walks it again
let laneOrder = [];     // the model's lanes, in its order: actions are listed by lane
let shown = [];         // the enabled actions in the order they are listed (keys 1-9)

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, props || {});
  for (const c of children) node.append(c);
  return node;
}

function showError(message) {
  const box = document.getElementById("error");
  box.textContent = message || "";
  box.hidden = !message;
}

async function getJSON(url, options) {
  const response = await fetch(url, options);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

function location_path() {
  const q = new URLSearchParams(window.location.search);
  return { init: q.get("init") || "0", path: q.get("path") || "" };
}

function urlFor(init, path) {
  return `?init=${init}&path=${path.join(",")}`;
}

async function go(init, path, push = true) {
  try {
    const view = await getJSON(`/api/state${urlFor(init, path)}`);
    if (push) history.pushState(null, "", urlFor(init, path));
    current = view;
    showError("");
    render(view);
  } catch (e) {
    showError(e.message);
  }
}

function take(index) {
  const path = [...current.path, index];
  const same = ahead.length > path.length &&
    path.every((k, i) => ahead[i] === k);
  if (!same) ahead = [];
  go(current.init, path);
}

function back() {
  if (!current || current.path.length === 0) return;
  if (ahead.length < current.path.length) ahead = [...current.path];
  go(current.init, current.path.slice(0, -1));
}

function forward() {
  if (!current || ahead.length <= current.path.length) return;
  go(current.init, ahead.slice(0, current.path.length + 1));
}

function render(view) {
  const path = document.getElementById("path");
  path.replaceChildren(...view.steps.map((s, i) => {
    const li = el("li", { textContent: s.action, title: "go back to this state" });
    if (i === view.steps.length - 1) li.className = "current";
    li.onclick = () => {
      if (ahead.length < view.path.length) ahead = [...view.path];
      go(view.init, view.path.slice(0, i));
    };
    return li;
  }));
  document.getElementById("back").disabled = view.path.length === 0;
  document.getElementById("forward").disabled = ahead.length <= view.path.length;

  const actions = document.getElementById("actions");
  const items = [];
  let lane = undefined;
  const rank = (a) => { const r = laneOrder.indexOf(a.lane); return r < 0 ? laneOrder.length : r; };
  shown = view.actions.map((a, i) => [a, i])
    .sort((x, y) => rank(x[0]) - rank(y[0]) || x[1] - y[1]).map(x => x[0]);
  shown.forEach((a, i) => {
    if (a.lane !== lane) {
      lane = a.lane;
      items.push(el("div", { className: "lane", textContent: lane || "" }));
    }
    const b = el("button", { title: a.tells.length ? `tells ${a.tells.join(", ")}` : "" },
      el("span", { className: "key", textContent: i < 9 ? String(i + 1) : "" }), a.action);
    b.dataset.index = a.index;
    b.onclick = () => take(a.index);
    items.push(b);
  });
  if (view.deadlock) items.push(el("p", { className: "deadlock",
    textContent: "No action is enabled: a deadlock (or the end of the model's bounds)." }));
  actions.replaceChildren(...items);

  const state = document.getElementById("state");
  state.replaceChildren(...view.state.flatMap(t => {
    const head = el("tr", {}, ...t.columns.map(c => el("th", { textContent: c })));
    const rows = t.rows.map(r => el("tr", {}, el("th", { textContent: r.key }),
      ...r.cells.map(c => el("td", { textContent: c.value,
                                     className: c.changed ? "changed" : "" }))));
    return [el("h3", { textContent: t.title, className: "hint" }), el("table", {}, head, ...rows)];
  }));

  const props = document.getElementById("properties");
  props.replaceChildren(el("tr", {}, el("th", { textContent: "property" }),
    el("th", { textContent: "kind" }), el("th", { textContent: "here" })),
    ...view.properties.map(p => {
      const verdict = p.holds === null ? ["n/a", "na"] :
        p.holds ? ["holds", "holds"] : (p.kind === "sometimes" ? ["not here", "na"] :
                                        ["VIOLATED", "fails"]);
      const cell = el("td", { textContent: verdict[0], className: verdict[1] });
      if (p.note) cell.title = p.note;
      return el("tr", { title: p.doc }, el("td", { textContent: p.name }),
                el("td", { textContent: p.kind }), cell);
    }));
}

async function loadTrace(file) {
  try {
    const text = await file.text();
    const found = await getJSON("/api/trace", { method: "POST", body: text,
      headers: { "Content-Type": "application/json" } });
    ahead = [...found.path];
    await go(found.init, found.path);   // at its end: back (left arrow) steps through it
  } catch (e) {
    showError(`could not load ${file.name}: ${e.message}`);
  }
}

async function runCheck() {
  const name = document.getElementById("checkprop").value;
  const out = document.getElementById("checkresult");
  const button = document.getElementById("check");
  out.textContent = "checking\u2026";
  button.disabled = true;
  try {
    const r = await getJSON(`/api/check?property=${encodeURIComponent(name)}`);
    const bound = r.complete ? "" : " (the search stopped at its limit)";
    if (r.path === null) {
      out.textContent = name && r.verdict !== "violated"
        ? `no example of ${name} in ${r.distinct_states} states${bound}`
        : `${r.verdict}: no counterexample in ${r.distinct_states} states${bound}`;
    } else {
      out.textContent = r.kind === "sometimes"
        ? `example of ${r.property} in ${r.length} steps`
        : `${r.property} is violated after ${r.length} steps (the shortest trace)`;
      ahead = [...r.path];
      await go(r.init, r.path);
    }
  } catch (e) {
    out.textContent = "";
    showError(e.message);
  } finally {
    button.disabled = false;
  }
}

document.addEventListener("keydown", (e) => {
  if (e.target.tagName === "INPUT" || e.target.tagName === "SELECT" || e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.key === "ArrowLeft" || e.key === "Backspace") { back(); e.preventDefault(); }
  else if (e.key === "ArrowRight") { forward(); e.preventDefault(); }
  else if (e.key === "Home") { if (current) go(current.init, []); }
  else if (/^[1-9]$/.test(e.key) && current) {
    const a = shown[Number(e.key) - 1];
    if (a) take(a.index);
  }
});

window.addEventListener("popstate", () => {
  const at = location_path();
  go(at.init, at.path ? at.path.split(",").map(Number) : [], false);
});

document.getElementById("check").onclick = runCheck;
document.getElementById("back").onclick = back;
document.getElementById("forward").onclick = forward;
document.getElementById("restart").onclick = () => current && go(current.init, []);
document.getElementById("tracefile").onchange = (e) => {
  if (e.target.files.length) loadTrace(e.target.files[0]);
};

(async () => {
  try {
    const model = await getJSON("/api/model");
    document.title = `kafkacheck explore ${model.name}`;
    laneOrder = model.lanes;
    document.getElementById("title").textContent = `kafkacheck explore ${model.name}`;
    document.getElementById("params").textContent = Object.entries(model.params)
      .map(([k, v]) => `${k}=${v}`).join("  ");
    const select = document.getElementById("checkprop");
    for (const p of model.properties) {
      if (["always", "sometimes", "transition"].includes(p.kind)) {
        select.append(el("option", { value: p.name, textContent: `${p.name} (${p.kind})` }));
      }
    }
  } catch (e) { showError(e.message); }
  const at = location_path();
  if (/^\d+$/.test(at.init) && /^(\d+(,\d+)*)?$/.test(at.path)) {
    go(Number(at.init), at.path ? at.path.split(",").map(Number) : [], false);
  } else {
    await go(0, []);
    showError(`the URL's path ${at.path} is not a list of successor indices; starting over`);
  }
})();
