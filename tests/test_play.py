"""Human play at a terminal: ``reassurance play`` driven through stdin, and ``HumanPolicy``."""

from __future__ import annotations

import io
import re
import subprocess
import sys

import numpy as np
import pytest

from reassurance import agents
from reassurance.agents.human import GameAbandoned, HumanPolicy, MoveError, parse_move
from reassurance.cli import main
from reassurance.envs import coalition_v0

# Every other seat fixed, so the tests do not move when the default bots change.
BOTS = (
    "member=member/leader,usa=usa/conditional-backstop,"
    "ukraine=ukraine/accepts-with-guarantees,russia=russia/opportunist"
)
CLASSROOM_TURNS = 16


def _play(monkeypatch, capsys, lines: list[str], *args: str) -> tuple[int, str, str]:
    """Run ``reassurance play`` with ``lines`` on stdin; return (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "stdin", io.StringIO("".join(f"{line}\n" for line in lines)))
    code = main(["play", "--scenario", "classroom", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _debrief_row(out: str, member: str) -> list[str]:
    """The cells of ``member``'s row in the debrief's members table."""
    debrief = out[out.index("DEBRIEF") :]
    table = debrief[debrief.index("Members:") : debrief.index("Escalation timeline")]
    row = next(line for line in table.splitlines() if line.startswith(member))
    return row.removeprefix(member).removeprefix("*").split()


def _metric(out: str, key: str) -> str:
    return re.search(rf"^  {key} +(\S+)", out, re.MULTILINE).group(1)


def test_a_full_game_takes_moves_by_name_and_ends_with_a_debrief(monkeypatch, capsys) -> None:
    moves = ["pledge=15%", "pledge=10% contribution=ground aid=low", "commit=deploy"]
    code, out, _ = _play(
        monkeypatch, capsys, moves + [""] * 14, "--as", "france", "--seed", "1", "--bots", BOTS
    )
    assert code == 0
    # the bad share is refused with what is allowed, and the same turn is asked again
    assert "! pledge has no value '15%'; shares: 5%, 10%, 20%" in out
    first_turn = out[: out.index("== Turn 1/")]
    assert first_turn.count("france> ") == 2
    # legal values are listed by name, with the observation pieces by name
    assert "commit       [hold]   not now: deploy withdraw" in first_turn
    assert "self_pledge=none" in first_turn and "phase=war" in first_turn
    flat = " ".join(out.split())  # lines are wrapped at 80 columns
    assert "france plays: pledge=pct10 contribution=ground condition=unconditional aid=low" in flat
    # standing orders: aid stays low without being typed again; the pledge is a one-off
    assert "france plays: commit=deploy aid=low ==" in flat
    assert out.count("== Turn ") == CLASSROOM_TURNS
    # the debrief: outcome, members, timeline, metrics
    debrief = out[out.index("DEBRIEF") :]
    for heading in ("Outcome", "Members:", "Escalation timeline", "Cohesion", "Conflict"):
        assert heading in debrief
    pledged, pledge_turn, deployed, deploy_turn, at_end, pledge = _debrief_row(out, "france")
    assert int(pledged.replace(",", "")) > 0 and pledge_turn == "1"
    assert deployed == pledged and deploy_turn == "2" and at_end == pledged
    assert pledge == "ground/unconditional"
    timeline = debrief[debrief.index("Escalation timeline") : debrief.index("Cohesion")]
    assert len(re.findall(r"^ +\d+  (war|negotiation|deployment|test) ", timeline, re.M)) == 16
    assert _metric(out, "contributors") == "3"
    assert max(len(line) for line in debrief.splitlines()) < 80


def test_the_debrief_reports_the_game_play_match_plays(monkeypatch, capsys) -> None:
    moves = ["pledge=10% aid=low", "commit=deploy"] + [""] * 14
    code, out, _ = _play(
        monkeypatch, capsys, moves, "--as", "france", "--seed", "4", "--bots", BOTS
    )
    assert code == 0
    human = HumanPolicy("member", stdin=io.StringIO("\n".join(moves) + "\n"), stdout=io.StringIO())
    lineup = {
        "member": "member/leader",
        "usa": "usa/conditional-backstop",
        "ukraine": "ukraine/accepts-with-guarantees",
        "russia": "russia/opportunist",
        "france": human,
    }
    summary = agents.play_match("classroom", lineup, seed=4).summary
    assert _metric(out, "troops_deployed") == f"{summary['troops_deployed']:,.0f}"
    assert _metric(out, "ceasefires") == str(summary["ceasefires"])
    assert _metric(out, "contributors") == str(summary["contributors"])


def test_passing_every_turn_leaves_france_out_of_the_force(monkeypatch, capsys) -> None:
    code, out, _ = _play(monkeypatch, capsys, ["pass"] * 16, "--as", "france", "--bots", BOTS)
    assert code == 0
    assert _debrief_row(out, "france")[:5] == ["0", "-", "0", "-", "0"]
    assert int(_debrief_row(out, "uk")[0].replace(",", "")) > 0


def test_same_seed_and_input_give_the_same_game(monkeypatch, capsys) -> None:
    # Seed 7 draws a US that never signals a backstop, so France's conditional pledge never
    # may deploy: the moves stay legal every turn.
    moves = ["pledge=20% condition=if_us", "aid=medium"] + [""] * 14
    args = ("--as", "france", "--seed", "7")
    first = _play(monkeypatch, capsys, moves, *args)
    second = _play(monkeypatch, capsys, moves, *args)
    assert first[0] == 0 and first == second


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("pldge=pct10", "no component 'pldge'; components: pledge, contribution, condition"),
        ("pledge=9", "pledge=9 is out of range: pledge takes a number 0-5 or a name"),
        ("pledge=10", "(for a share of your troops write 10%)"),
        ("commit=deploy", "commit=deploy is not allowed now; commit may be: hold"),
        ("aid=lots", "aid: no value 'lots'; values: none, low, medium, high"),
        ("c=ground", "'c' is ambiguous: contribution or condition or commit"),
        ("pledge=5% pledge=10%", "pledge is given twice"),
        ("surrender", "cannot read 'surrender': write component=value pairs"),
        ("pledge=", "cannot read 'pledge='"),
    ],
)
def test_bad_input_gets_a_message_and_a_new_prompt(monkeypatch, capsys, line, message) -> None:
    code, out, _ = _play(monkeypatch, capsys, [line, "quit"], "--as", "france")
    assert code == 0
    flat = " ".join(out.split())  # messages are wrapped at 80 columns
    assert f"france> {line}\n  ! " in out
    assert " ".join(message.split()) in flat
    assert out.count("france> ") == 2
    assert "You left the game after 0 of 16 turns." in out
    assert "Traceback" not in out


def test_help_and_view_do_not_use_up_the_turn(monkeypatch, capsys) -> None:
    code, out, _ = _play(monkeypatch, capsys, ["help", "view", "quit"], "--as", "usa")
    assert code == 0
    assert "signal       what you say about backing the force" in out
    assert "0 silent, 1 verbal, 2 conditional, 3 formal" in out
    assert re.search(r"members_ +pledged +deployed +conditional +defected", out)  # view
    assert re.search(r"^  germany +0.00 +0.00 +0.00 +0.00$", out, re.MULTILINE)
    assert "us_type=" in out and "== Turn" not in out
    assert out.count("usa> ") == 3


def test_end_of_input_stops_the_game_cleanly() -> None:
    cmd = [sys.executable, "-m", "reassurance.cli", "play", "--scenario", "classroom"]
    run = subprocess.run(
        [*cmd, "--as", "russia", "--seed", "2"], input="offensive=high\n\n", text=True,
        capture_output=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 1
    assert "end of input at turn 3; the game stops after 2 of 16 turns" in run.stderr
    assert "Traceback" not in run.stderr
    assert run.stdout.count("== Turn ") == 2 and "DEBRIEF" not in run.stdout


def test_as_must_name_a_seat_of_the_scenario(monkeypatch, capsys) -> None:
    code, _, err = _play(monkeypatch, capsys, [], "--as", "nato")
    assert code == 2
    assert "--as 'nato' is not a seat of classroom" in err
    assert "usa, uk, france, germany, ukraine, russia" in err
    code, _, err = _play(monkeypatch, capsys, [])
    assert code == 2 and "play needs --as SEAT" in err and "france" in err


@pytest.mark.parametrize(
    ("bots", "message"),
    [
        ("usa=usa/foo", "unknown bot 'usa/foo' for 'usa'; usa bots: usa/by-type, usa/committed"),
        ("member=usa/words-only", "'usa/words-only' is a usa bot and cannot play 'member'"),
        ("uk=russia/hawk", "member bots: member/conditional-on-us"),
        ("nato=usa/words-only", "unknown seat 'nato'; seats are the roles"),
        ("france=member/leader", "'france' is your own seat (--as france)"),
        ("usa", "cannot read 'usa'; write SEAT=AGENT pairs separated by commas"),
        ("usa=usa/disengaged,usa=usa/words-only", "seat 'usa' is given twice"),
    ],
)
def test_bots_errors_name_what_is_allowed(monkeypatch, capsys, bots, message) -> None:
    code, out, err = _play(monkeypatch, capsys, [], "--as", "france", "--bots", bots)
    assert code == 2
    assert message in err and "Traceback" not in err
    assert out == ""


def test_bots_choose_the_other_seats(monkeypatch, capsys) -> None:
    bots = "usa=usa/words-only,member=member/free-rider,russia=russia/hawk"
    code, out, _ = _play(monkeypatch, capsys, ["quit"], "--as", "ukraine", "--bots", bots)
    assert code == 0
    intro = " ".join(out[: out.index("-- Your move")].split())
    assert "You play ukraine." in intro
    for seat in ("usa=usa/words-only", "uk=member/free-rider", "germany=member/free-rider"):
        assert seat in intro
    assert "russia=russia/hawk" in intro


def test_list_bots(capsys) -> None:
    assert main(["play", "--list-bots"]) == 0
    out = capsys.readouterr().out
    for agent_id in agents.list_agents():
        assert agent_id in out
    assert f"usa (default {agents.DEFAULT_BOTS['usa']}):" in out


# ---------------------------------------------------------------------------- HumanPolicy


def _seated(role_agent: str, lines: str) -> tuple[HumanPolicy, dict, io.StringIO]:
    env = coalition_v0.parallel_env(scenario="classroom")
    obs, _ = env.reset(seed=0)
    out = io.StringIO()
    policy = HumanPolicy(agents.role_of(role_agent), stdin=io.StringIO(lines), stdout=out)
    policy.bind(agents.Seat.of(env, role_agent))
    return policy, obs[role_agent], out


@pytest.mark.parametrize("agent", ["uk", "usa", "ukraine", "russia"])
def test_human_components_are_the_env_action_labels(agent: str) -> None:
    env = coalition_v0.parallel_env(scenario="classroom")
    policy, obs, out = _seated(agent, "\n")
    assert policy._components == env.action_labels(agent)
    action = policy.act(obs, np.random.default_rng(0))
    assert env.action_space(agent).contains(action) and not action.any()
    for name, labels in env.action_labels(agent):
        assert f"    {name:<13}[{labels[0]}]" in out.getvalue()


def test_human_policy_reads_a_move_and_keeps_standing_orders() -> None:
    policy, obs, out = _seated("russia", "off=high thr=rhet\n\npass\n")
    rng = np.random.default_rng(0)
    assert policy.act(obs, rng).tolist() == [3, 0, 0, 0, 1]
    assert policy.act(obs, rng).tolist() == [3, 0, 0, 0, 1]  # Enter: the same orders
    assert policy.act(obs, rng).tolist() == [0, 0, 0, 0, 0]  # pass clears them
    assert "russia plays: offensive=high threat=rhetoric" in out.getvalue()
    with pytest.raises(GameAbandoned) as left:
        policy.act(obs, rng)
    assert left.value.eof


def test_parse_move_reads_names_numbers_and_shares() -> None:
    env = coalition_v0.parallel_env(scenario="classroom")
    obs, _ = env.reset(seed=0)
    labels = env.action_labels("uk")
    mask = obs["uk"]["action_mask"]
    assert parse_move("pledge=10% contribution=isr", labels, mask) == {0: 4, 1: 3}
    assert parse_move("pl = 2, CONTR=Log, aid=3", labels, mask) == {0: 2, 1: 4, 5: 3}
    assert parse_move("", labels, mask) == {}
    with pytest.raises(MoveError, match="response=engage is not allowed now"):
        parse_move("response=engage", labels, mask)
    with pytest.raises(ValueError, match="unknown role 'nato'"):
        HumanPolicy("nato")
