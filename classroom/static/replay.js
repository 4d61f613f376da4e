"use strict";
// An offline replay: the game's frames are in this file; a slider walks through them.
(function () {
  const data = JSON.parse(document.getElementById("replay-data").textContent);
  const $ = (id) => document.getElementById(id);
  const US = ["disengaged", "conditional", "committed"];
  const SIGNAL = ["silent", "verbal", "conditional", "formal"];
  const PENDING = ["none", "Russia (no foreign troops)", "Russia (troops allowed)", "Ukraine"];
  const frames = data.frames;
  const series = {};
  for (const agent of data.agents) series[agent] = frames.slice(1).map((f) => f.escalation[agent]);
  let timerId = null;

  $("policies").replaceChildren(el("thead", {}, el("tr", {}, el("th", { text: "seat" }), el("th", { text: "played by" }))),
    el("tbody", {}, ...data.agents.map((a) => el("tr", {}, el("td", { text: a }), el("td", { text: data.policies[a] || "" })))));
  const outcome = $("outcome");
  const s = data.summary;
  outcome.append(el("p", { text: "Force peaked at " + fmt(s.troops_deployed) + " troops (threshold " + fmt(s.threshold) + "); threshold met: " + fmt(s.threshold_met) +
    "; ceasefires " + fmt(s.ceasefires) + ", broken " + fmt(s.ceasefire_breaks) + "; Ukraine holds " + (100 * s.final_front).toFixed(1) + "% at the end." }));
  if (data.hidden) outcome.append(el("p", { text: "Hidden types: the US was " + data.hidden.us_type + "; Russia's resolve " + fmt(data.hidden.russia_resolve) + "." }));

  function show(index) {
    const f = frames[index];
    const d = f.dash;
    $("frame-label").textContent = index === 0 ? "start" : "turn " + index + " of " + (frames.length - 1);
    $("events").replaceChildren(...f.events.map((t) => el("p", { class: "notice", text: "Event: " + t })));
    $("figures").replaceChildren(
      el("p", {}, "Phase: ", el("strong", { text: d.phase }), " · offer on the table: " + PENDING[d.pending] + " · US says " + SIGNAL[d.us_signal] + ", enablers " + d.us_enablers + "/3"),
      meter("Front: share of its territory Ukraine holds", d.front, 1, (100 * d.front).toFixed(1) + "%"),
      meter("Force F vs threshold F*", d.force, d.threshold, fmt(d.force) + " / " + fmt(d.threshold) + " troops (" + fmt(d.pledged_force) + " pledged)", d.force >= d.threshold),
      meter("Enablers E vs E* (1 = reached)", d.enablers, 1, d.enablers.toFixed(2), d.enablers >= 1),
      meter("Deterrence q", d.deterrence, 1, d.deterrence.toFixed(2)),
      meter("Public belief the US backs the force", d.mu, 1, US.map((t, i) => t + " " + d.belief[i].toFixed(2)).join(", ")),
    );
    $("members").replaceChildren(el("thead", {}, el("tr", {}, ...["member", "pledged", "deployed", "reneged"].map((t) => el("th", { text: t })))),
      el("tbody", {}, ...data.members.map((m) => el("tr", { class: data.humans.includes(m) ? "own" : null }, el("td", { text: m }),
        el("td", { class: "num", text: fmt(d.members[m].pledged) }), el("td", { class: "num", text: fmt(d.members[m].deployed) }),
        el("td", { text: d.members[m].defected ? "yes" : "" })))));
    $("escalation").innerHTML = lineChart(series, { title: "Escalation score per agent", highlight: data.humans, marker: index - 1 });
    const rows = index === 0 ? [el("tr", {}, el("td", { class: "muted", text: "The game has not started." }))] :
      data.agents.map((a) => el("tr", { class: data.humans.includes(a) ? "own" : null }, el("td", {}, el("strong", { text: a })),
        el("td", { text: Object.entries(f.actions[a] || {}).map(([k, v]) => k + "=" + v).join("  ") }),
        el("td", { class: "num", text: "score " + fmt(f.escalation[a]) + ", rung " + f.rung[a] })));
    $("moves").replaceChildren(el("tbody", {}, ...rows));
    $("report").textContent = f.report || (index === 0 ? "Start of the game." : "");
  }

  $("slider").oninput = () => show(parseInt($("slider").value, 10));
  $("play").onclick = () => {
    if (timerId) { clearInterval(timerId); timerId = null; $("play").textContent = "Play"; return; }
    $("play").textContent = "Pause";
    timerId = setInterval(() => {
      const next = (parseInt($("slider").value, 10) + 1) % frames.length;
      $("slider").value = String(next);
      show(next);
      if (next === frames.length - 1) { clearInterval(timerId); timerId = null; $("play").textContent = "Play"; }
    }, 900);
  };
  show(0);
})();
