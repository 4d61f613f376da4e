"use strict";
// The teacher's dashboard: live figures, who has moved, and the facilitator's controls.
(function () {
  const token = document.body.dataset.token;
  const game = document.body.dataset.game;
  const $ = (id) => document.getElementById(id);
  const timer = turnTimer($("timer"));
  const US = ["disengaged", "conditional", "committed"];
  const PENDING = ["none", "Russia (no foreign troops)", "Russia (troops allowed)", "Ukraine"];
  const SIGNAL = ["silent", "verbal", "conditional", "formal"];

  const conn = liveConnection({ type: "hello", token: token, game: game }, receive, (up) => {
    $("connection").hidden = up;
    $("connection").textContent = up ? "" : "Connection lost; reconnecting...";
  });

  function receive(message) {
    if (message.type === "state") render(message);
    else if (message.type === "error") { $("error").textContent = message.message; $("error").hidden = false; }
  }

  function act(type, extra) {
    $("error").hidden = true;
    conn.send(Object.assign({ type: type, token: token }, extra || {}));
  }
  $("pause").onclick = () => act("pause");
  $("resume").onclick = () => act("resume");
  $("end-turn").onclick = () => act("end_turn");
  $("extend").onclick = () => act("extend", { seconds: parseInt($("extend-seconds").value, 10) || 0 });
  $("reveal").onclick = () => act("reveal");
  $("event").onchange = () => {
    document.querySelectorAll("[data-event]").forEach((n) => { n.hidden = n.dataset.event !== $("event").value; });
  };
  $("inject").onsubmit = (event) => {
    event.preventDefault();
    const kind = $("event").value;
    const option = $("event").selectedOptions[0];
    const params = {};
    params[option.dataset.parameter] = $("param-" + kind).value;
    act("inject", { event: kind, params: params });
  };

  function render(s) {
    const g = s.game;
    $("turn").textContent = g.finished ? "Finished after " + g.resolved + " turns" : "Turn " + g.turn + " of " + g.horizon;
    const waiting = s.seats.filter((x) => x.human && !x.moved).length;
    $("status").textContent = g.finished ? "The game is over." :
      (g.status === "paused" ? "Paused. " : "Running. ") + waiting + " student seat(s) still to move; " +
      "simulated games for the debrief: " + s.simulated + " of " + s.simulations_wanted + ".";
    timer.set(g);
    for (const id of ["pause", "resume", "end-turn", "extend", "inject-button"]) $(id).disabled = g.finished;
    $("pause").disabled = g.finished || g.status !== "running";
    $("resume").disabled = g.finished || g.status !== "paused";
    $("finished").hidden = !g.finished;
    $("reveal").disabled = s.revealed;
    if (s.hidden) {
      $("hidden").hidden = false;
      $("hidden").textContent = "Hidden types: the US was " + s.hidden.us_type + "; Russia's resolve was " + fmt(s.hidden.russia_resolve) + ".";
    }
    const d = s.dash;
    const figures = $("figures");
    figures.replaceChildren(
      el("p", {}, "Phase: ", el("strong", { id: "phase", text: d.phase }), " · offer on the table: " + PENDING[d.pending] + " · US says " + SIGNAL[d.us_signal] + ", enablers " + d.us_enablers + "/3"),
      meter("Front: share of its territory Ukraine holds", d.front, 1, (100 * d.front).toFixed(1) + "%"),
      meter("Force F vs threshold F*", d.force, d.threshold, fmt(d.force) + " / " + fmt(d.threshold) + " troops (" + fmt(d.pledged_force) + " pledged)", d.force >= d.threshold),
      meter("Enablers E vs E* (1 = reached)", d.enablers, 1, d.enablers.toFixed(2), d.enablers >= 1),
      meter("Deterrence q", d.deterrence, 1, d.deterrence.toFixed(2)),
      meter("Public belief the US backs the force", d.mu, 1, US.map((t, i) => t + " " + d.belief[i].toFixed(2)).join(", ")),
      el("p", { class: "muted", text: (d.gap_open ? "A deterrence gap is open. " : "") + (d.threshold_met ? "The force met F* and E* at the last deadline." : "") }),
    );
    const seats = $("seats");
    seats.replaceChildren(el("thead", {}, el("tr", {}, ...["seat", "played by", "this turn", "link"].map((t) => el("th", { text: t })))),
      el("tbody", {}, ...s.seats.map((x) => el("tr", { "data-seat": x.agent },
        el("td", {}, el("strong", { text: x.agent })),
        el("td", {}, x.human ? (x.name ? "student: " + x.name : x.claimed ? "student" : "student (free)") +
          (x.human ? (x.connected ? " · online" : " · offline") : "") : el("span", { class: "pill bot", text: x.bot })),
        el("td", {}, x.human && !g.finished ? el("span", { class: "pill " + (x.moved ? "moved" : "waiting"), text: x.moved ? "moved" : "waiting" }) : ""),
        el("td", {}, x.link ? el("code", { class: "link", text: location.origin + x.link }) : "")))));
    const names = s.history.length ? Object.keys(s.history[0].escalation) : [];
    const series = {};
    for (const name of names) series[name] = s.history.map((h) => h.escalation[name]);
    const humans = s.seats.filter((x) => x.human).map((x) => x.agent);
    $("escalation").innerHTML = s.history.length ? lineChart(series, { title: "Escalation score per agent", highlight: humans }) : "<p class=\"muted\">No turn played yet.</p>";
    $("events").replaceChildren(...(s.events.length ? s.events.map((e) => el("li", { text: "before turn " + e.before_turn + ": " + e.text })) : [el("li", { class: "muted", text: "none" })]));
    $("report").textContent = s.report || "No turn played yet.";
  }
})();
