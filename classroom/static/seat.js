"use strict";
// The student's page: one seat's own view, and its move form.
(function () {
  const token = document.body.dataset.token;
  const $ = (id) => document.getElementById(id);
  const timer = turnTimer($("timer"));
  let state = null, pendingNonce = null;

  const conn = liveConnection({ type: "hello", token: token }, receive, (up) => {
    const box = $("connection");
    box.hidden = up;
    box.textContent = up ? "" : "Connection lost; reconnecting... your seat is kept.";
  });

  function receive(message) {
    if (message.type === "state") render(message);
    else if (message.type === "ack") acknowledged(message);
    else if (message.type === "error") showError(message.message);
  }

  function showError(text) {
    const box = $("move-error");
    box.textContent = text;
    box.hidden = false;
  }

  function acknowledged(message) {
    if (message.nonce !== pendingNonce) return;
    $("move-error").hidden = true;
    const parts = Object.entries(message.move).map(([k, v]) => k + "=" + v);
    const box = $("move-ack");
    box.textContent = "Your move for turn " + message.turn + " is in: " +
      (parts.length ? parts.join(" ") : "your standing orders") +
      ". You can change it until the turn ends.";
    box.hidden = false;
  }

  function render(s) {
    const turnChanged = !state || state.game.resolved !== s.game.resolved;
    state = s;
    const g = s.game;
    $("turn").textContent = g.finished ? "Game over after " + g.resolved + " turns" : "Turn " + g.turn + " of " + g.horizon;
    $("status").textContent = g.status !== "paused" ? "" :
      g.resolved === 0 ? "Waiting for the teacher to start the game" : "Paused by the teacher";
    $("status").className = g.status === "paused" ? "status-paused" : "muted";
    timer.set(g);
    const events = $("events");
    events.replaceChildren(...(s.events || []).map((t) => el("p", { class: "notice event", text: "News: " + t })));
    const last = $("last");
    last.replaceChildren();
    if (s.last) {
      const played = s.last.played ? Object.entries(s.last.played).map(([k, v]) => k + "=" + v).join(" ") : "";
      last.append(el("p", { id: "last-turn" },
        (s.last.timed_out ? "Time ran out in turn " + s.last.turn + "; your orders were played: " :
          "In turn " + s.last.turn + " you played: ") + played));
    }
    $("finished").hidden = !g.finished;
    $("play").hidden = g.finished;
    if (g.finished) {
      $("debrief-link").setAttribute("href", s.links.debrief);
      $("replay-link").setAttribute("href", s.links.replay);
      return;
    }
    $("report").replaceChildren(...s.report.map((line) => el("li", { text: line })));
    renderPieces(s);
    if (turnChanged) {
      $("move-ack").hidden = true;
      $("move-error").hidden = true;
      renderForm(s);
    }
    if (s.moved && s.move) acknowledged({ nonce: pendingNonce, turn: g.turn, move: s.move });
    $("move-form").querySelectorAll("input,button").forEach((n) => {
      if (n.dataset.legal !== "0") n.disabled = g.status === "paused";
    });
  }

  function renderPieces(s) {
    const body = $("pieces").tBodies[0];
    body.replaceChildren(...s.pieces.map((p) =>
      el("tr", { class: p.own ? "own" : null, "data-piece": p.name },
        el("td", {}, el("code", { text: p.name })), el("td", { text: p.text }), el("td", { class: "muted", text: p.doc }))));
    const table = $("members");
    const head = el("tr", {}, el("th", { text: "member" }),
      ...s.members.columns.map((c, i) => el("th", { class: "num", title: s.members.docs[i], text: c })));
    table.replaceChildren(el("thead", {}, head), el("tbody", {}, ...s.members.rows.map((row) =>
      el("tr", { class: row[0] === s.seat.agent ? "own" : null },
        el("td", { text: row[0] }), ...row.slice(1).map((v) => el("td", { class: "num", text: fmt(v) }))))));
  }

  function renderForm(s) {
    const form = $("move-form");
    form.replaceChildren();
    for (const c of s.components) {
      const box = el("fieldset", { "data-component": c.name }, el("legend", { text: c.name }), el("div", { class: "gloss", text: c.gloss }));
      const choices = el("div", { class: "choices" });
      for (const v of c.values) {
        const id = "c-" + c.name + "-" + v.value;
        const input = el("input", { type: "radio", name: c.name, value: v.label, id: id,
          checked: v.value === c.default, disabled: !v.legal, "data-legal": v.legal ? "1" : "0" });
        const label = el("label", { for: id }, input, " ", el("span", { class: "label", text: v.label }));
        const choice = el("div", { class: "choice" + (v.legal ? "" : " illegal") + (v.value === c.order && c.order !== 0 ? " order" : "") }, label);
        if (!v.legal) choice.append(el("span", { class: "reason", text: "not now: " + v.reason }));
        choices.append(choice);
      }
      box.append(choices);
      if (c.waits) box.append(el("div", { class: "gloss warn",
        text: "Your order " + c.name + "=" + c.values[c.order].label + " waits: it is not allowed this turn, so " + c.values[0].label + " is played." }));
      form.append(box);
    }
    form.append(el("button", { type: "submit", id: "send-move" }, "Send my move"));
    form.onsubmit = (event) => { event.preventDefault(); send(); };
  }

  function send() {
    const move = {};
    for (const c of state.components) {
      const chosen = document.querySelector('input[name="' + c.name + '"]:checked');
      if (chosen && chosen.value !== c.values[c.default].label) move[c.name] = chosen.value;
    }
    pendingNonce = newNonce();
    const ok = conn.send({ type: "move", token: token, turn: state.game.turn, nonce: pendingNonce, move: move });
    if (!ok) showError("Not connected; your move was not sent. Wait for the connection and send again.");
  }
})();
