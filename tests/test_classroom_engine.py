"""The classroom's game engine, seat views and events, without a server."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from reassurance import agents
from reassurance.agents.human import MoveError
from reassurance.classroom import seatview
from reassurance.classroom.engine import (
    LiveGame,
    RestoreError,
    make_spec,
    observe,
    state_to_json,
)
from reassurance.classroom.events import EVENTS, apply_event
from reassurance.envs import coalition_v0, list_scenarios
from reassurance.envs.actions import COMPONENTS, Role

LINEUP = {
    "usa": "usa/conditional-backstop",
    "uk": "member/leader",
    "france": "member/conditional-on-us",
    "germany": "member/reciprocator",
    "ukraine": "ukraine/accepts-with-guarantees",
    "russia": "russia/salami-slicer",
}


def _spec(humans=("france", "usa"), seed=5, horizon=16, bots=LINEUP):
    return make_spec(
        scenario="classroom", horizon=horizon, turn_seconds=60, seed=seed, humans=list(humans),
        bots=dict(bots),
    )  # fmt: skip


def _suggestion(game: LiveGame, agent: str) -> np.ndarray:
    """What the seat's bot will suggest this turn, without moving its generator or memory."""
    bot = copy.deepcopy(game.bots[agent])
    rng = copy.deepcopy(game.rngs[agent])
    return bot.act(game.obs[agent], rng)


def _full_move(game: LiveGame, agent: str, action: np.ndarray) -> dict[str, str]:
    labels = game.components(agent)
    mask = game.obs[agent]["action_mask"]
    return {
        name: values[int(v)] for (name, values), m, v in zip(labels, mask, action, strict=True)
        if m[int(v)]
    }  # fmt: skip


def test_students_who_play_the_bots_suggestion_give_play_match_bit_for_bit() -> None:
    game = LiveGame(_spec(humans=("france", "usa", "russia")))
    while not game.finished:
        masks = {agent: game.obs[agent]["action_mask"] for agent in game.spec.humans}
        for agent in game.spec.humans:
            game.submit(agent, _full_move(game, agent, _suggestion(game, agent)))
        record = game.resolve()
        for agent in game.spec.humans:  # the student played what the bot suggested
            legal = [
                int(v) if m[int(v)] else 0
                for m, v in zip(masks[agent], record.shadow[agent], strict=True)
            ]
            assert record.executed[agent] == legal
    reference = agents.play_match("classroom", LINEUP, seed=5, overrides={"horizon": 16})
    summary = {k: v for k, v in game.summary.items() if not (isinstance(v, float) and np.isnan(v))}
    expected = {
        k: v for k, v in reference.summary.items() if not (isinstance(v, float) and np.isnan(v))
    }
    assert summary == expected


def test_observe_gives_the_env_observations_in_every_scenario() -> None:
    rng = np.random.default_rng(0)
    for scenario in list_scenarios():
        env = coalition_v0.parallel_env(scenario=scenario)
        obs, _ = env.reset(seed=1)
        for _ in range(6):
            mine = observe(env)
            for agent in env.agents:
                assert np.array_equal(mine[agent]["observations"], obs[agent]["observations"])
                for a, b in zip(mine[agent]["action_mask"], obs[agent]["action_mask"], strict=True):
                    assert a.dtype == b.dtype and np.array_equal(a, b)
            actions = {
                a: np.array([rng.choice(np.flatnonzero(m)) for m in obs[a]["action_mask"]])
                for a in env.agents
            }
            obs, *_ = env.step(actions)


def test_a_seat_that_does_not_move_keeps_last_turns_order() -> None:
    game = LiveGame(_spec(humans=("france",)))
    game.submit("france", {"pledge": "pct10", "contribution": "air", "aid": "medium"})
    first = game.resolve()
    labels = game.describe("france", first.executed["france"])
    assert (labels["pledge"], labels["contribution"], labels["aid"]) == ("pct10", "air", "medium")
    second = game.resolve()  # time ran out: no move
    assert second.timed_out == ["france"]
    labels = game.describe("france", second.executed["france"])
    # the standing aid order stays; the pledge, a one-off, goes back to keep, as in play
    assert (labels["pledge"], labels["aid"]) == ("keep", "medium")


def test_moves_are_checked_as_in_play_with_one_clear_message() -> None:
    game = LiveGame(_spec())
    with pytest.raises(MoveError, match=r"commit=deploy is not allowed now; commit may be: hold"):
        game.check_move("france", {"commit": "deploy"})
    with pytest.raises(MoveError, match=r"no component 'colour'"):
        game.check_move("france", {"colour": "red"})
    with pytest.raises(MoveError, match=r"pledge has no value '15%'; shares: 5%, 10%, 20%"):
        game.check_move("france", {"pledge": "15%"})
    with pytest.raises(MoveError, match=r"single words"):
        game.check_move("france", {"pledge": "pct10 commit=deploy"})
    with pytest.raises(MoveError, match=r"single words"):
        game.check_move("france", {"pledge": ["pct10"]})
    with pytest.raises(MoveError, match=r"uk is not a student's seat"):
        game.check_move("uk", {"aid": "low"})
    assert game.check_move("france", {"pl": "10%", "aid": 2}) == {0: 4, 5: 2}
    russia = LiveGame(_spec(humans=("russia",)))  # the longest value name of any component
    assert russia.check_move("russia", {"ceasefire": "offer_foreign_troops_allowed"}) == {2: 2}


def test_every_illegal_value_a_seat_sees_has_a_reason_from_its_own_view() -> None:
    """Reasons stay in step with the rules' masks: none falls back to 'not allowed now'."""
    rng = np.random.default_rng(3)
    explained = set()
    for scenario in ("classroom", "paris-2026-01"):
        for seed in range(4):
            env = coalition_v0.parallel_env(scenario=scenario)
            obs, _ = env.reset(seed=seed)
            while env.agents:
                for agent in env.agents:
                    role = env.role(agent)
                    view = env.view(agent, obs[agent])
                    for component, mask in zip(
                        COMPONENTS[role], obs[agent]["action_mask"], strict=True
                    ):
                        for value in np.flatnonzero(mask == 0):
                            reason = seatview.illegal_reason(role, component.name, int(value), view)
                            assert reason != "not allowed now", (role, component.name, value)
                            explained.add((role, component.name, int(value)))
                actions = {}
                for agent in env.agents:
                    masks = obs[agent]["action_mask"]
                    action = np.array([rng.choice(np.flatnonzero(m)) for m in masks])
                    if env.role(agent) is Role.MEMBER and rng.random() < 0.5:
                        action[3] = 1 if masks[3][1] else 0  # deploy often, to reach other phases
                    actions[agent] = action
                obs, *_ = env.step(actions)
    # the masks that matter most in class were met and explained
    assert (Role.MEMBER, "commit", 1) in explained and (Role.RUSSIA, "test", 1) in explained


def test_the_deploy_reason_names_the_pledges_condition() -> None:
    env = coalition_v0.parallel_env(scenario="classroom")
    obs, _ = env.reset(seed=0)
    s = env.game_state
    level, condition = s.pledge_level.copy(), s.pledge_condition.copy()
    level[0, 1], condition[0, 1] = 3, 1  # france pledges 10% if the US backstops; US is silent
    env.set_game_state(s.replace(pledge_level=level, pledge_condition=condition))
    obs = observe(env)
    entries = seatview.component_entries(
        Role.MEMBER, obs["france"]["action_mask"], env.view("france", obs["france"]), [0] * 6
    )
    deploy = entries[3]["values"][1]
    assert not deploy["legal"]
    assert deploy["reason"] == "your pledge's condition (if_us_backstop) does not hold"


def _seat_page(env, agent: str) -> dict:
    """What the app shows a seat (the parts built from the observation)."""
    obs = observe(env)[agent]
    view = env.view(agent, obs)
    role = env.role(agent)
    members = list(env.member_ids)
    return {
        "report": seatview.turn_report(view, horizon=16, threshold_troops=15000.0, members=members),
        "pieces": seatview.piece_entries(view, role, members),
        "members": seatview.member_table(view, members),
        "components": seatview.component_entries(role, obs["action_mask"], view, [0] * 6),
    }


@pytest.mark.parametrize("agent", ["france", "ukraine"])
def test_a_seat_sees_nothing_of_the_hidden_types_or_another_members_private_view(agent) -> None:
    env = coalition_v0.parallel_env(scenario="classroom")
    env.reset(seed=2)
    before = _seat_page(env, agent)
    s = env.game_state
    cooldown, votes = s.vote_cooldown.copy(), s.vote_passed.copy()
    cooldown[0, 2], votes[0, 2] = 3, True  # germany's private vote state
    env.set_game_state(
        s.replace(
            us_type=(s.us_type + 1) % 3, resolve=(s.resolve + 2) % 3, vote_cooldown=cooldown,
            vote_passed=votes,
        )
    )  # fmt: skip
    assert _seat_page(env, agent) == before
    names = {p["name"] for p in before["pieces"]}
    assert not names & {"us_type", "resolve"}
    assert "self_id" not in names or env.role(agent) is Role.MEMBER


def test_every_observation_piece_of_every_role_has_a_reading() -> None:
    for scenario in list_scenarios():
        env = coalition_v0.parallel_env(scenario=scenario)
        obs, _ = env.reset(seed=0)
        for agent in ("usa", env.member_ids[0], "ukraine", "russia"):
            view = env.view(agent, obs[agent])
            for name in view:
                assert seatview.piece_text(name, view[name], env.member_ids)


def test_events_change_the_state_as_documented_and_refuse_bad_values() -> None:
    env = coalition_v0.parallel_env(scenario="classroom")
    env.reset(seed=0)
    before = env.game_state
    text = apply_event(env, "us_statement", {"signal": "formal"})
    after = env.game_state
    assert int(after.us_signal[0]) == 3 and "formal" in text
    assert after.belief[0, 2] > before.belief[0, 2]  # a formal guarantee says "committed"
    assert np.isclose(after.belief.sum(), 1.0)
    with pytest.raises(ValueError, match=r"signal 'loud' is not allowed; allowed: silent, verbal"):
        apply_event(env, "us_statement", {"signal": "loud"})
    with pytest.raises(ValueError, match=r"none is in force \(phase war\)"):
        apply_event(env, "russian_probe", {"detected": "yes"})
    with pytest.raises(ValueError, match=r"france's deployments need no parliamentary vote; "
                       r"members with a vote: germany"):  # fmt: skip
        apply_event(env, "failed_vote", {"member": "france"})
    with pytest.raises(ValueError, match=r"unknown event 'coup'; events: "):
        apply_event(env, "coup", {})
    with pytest.raises(ValueError, match=r"takes only 'member'; unknown: \['signal'\]"):
        apply_event(env, "failed_vote", {"member": "germany", "signal": "x"})
    apply_event(env, "failed_vote", {"member": "germany"})
    obs = observe(env)
    view = env.view("germany", obs["germany"])
    assert view.scalar("self_vote_blocked") == 1.0
    # a probe during a ceasefire: everyone observes it, detected or not
    s = env.game_state
    env.set_game_state(s.replace(phase=np.array([2])))
    apply_event(env, "russian_probe", {"detected": "no"})
    view = env.view("uk", observe(env)["uk"])
    assert seatview.piece_text("russia_test", view["russia_test"]) == "probe"
    assert view.scalar("violation_succeeded") == 1.0 and env.game_state.violations[0] == 1
    assert set(EVENTS) == {"us_statement", "russian_probe", "failed_vote"}


def test_a_restored_game_continues_exactly_and_a_changed_record_is_refused() -> None:
    spec = _spec(humans=("france", "germany"), horizon=8)
    played = LiveGame(spec)
    turns, events = [], []
    moves = [{"france": {"pledge": "pct20", "aid": "low"}}, {"germany": {"commit": "hold"}}]
    for t in range(4):
        if t == 2:
            events.append(played.inject("us_statement", {"signal": "conditional"}))
        for agent, move in (moves[t] if t < len(moves) else {}).items():
            played.submit(agent, move)
        record = played.resolve()
        turns.append({"turn": record.turn, "moves": record.moves, "state": record.state})
    played.submit("france", {"aid": "high"})  # a move of the open turn 5
    restored = LiveGame.restore(spec, turns, events, played.pending)
    assert state_to_json(restored.env.game_state) == state_to_json(played.env.game_state)
    assert restored.pending == played.pending and restored.turn == 4
    while not played.finished:
        a, b = played.resolve(), restored.resolve()
        assert a.state == b.state and a.shadow == b.shadow
    broken = [dict(t) for t in turns]
    broken[1] = {**broken[1], "moves": {"france": {5: 3}}}  # a move that was never played
    with pytest.raises(RestoreError, match=r"turn 2 does not replay to the stored state"):
        LiveGame.restore(spec, broken, events, {})


def test_a_new_game_is_checked_with_one_clear_error_per_bad_choice() -> None:
    def spec(**changes):
        args = dict(scenario="classroom", horizon=10, turn_seconds=60, seed=1, humans=["uk"],
                    bots={})  # fmt: skip
        args.update(changes)
        return make_spec(**args)

    with pytest.raises(ValueError, match=r"scenario 'mars' is not offered; scenarios: "):
        spec(scenario="mars")
    with pytest.raises(ValueError, match=r"seconds per turn 2 is out of range; allowed: 5..3600"):
        spec(turn_seconds=2)
    with pytest.raises(ValueError, match=r"horizon 'ten' is not a whole number"):
        spec(horizon="ten")
    with pytest.raises(ValueError, match=r"unknown seats \['italy'\]"):
        spec(humans=["italy"])
    with pytest.raises(ValueError, match=r"choose at least one seat"):
        spec(humans=[])
    with pytest.raises(ValueError, match=r"bot 'usa/hawk' cannot play usa; usa bots: "):
        spec(bots={"usa": "usa/hawk"})
    with pytest.raises(ValueError, match=r"bot 'checkpoint:ppo' for uk is not a checkpoint of "):
        spec(bots={"uk": "checkpoint:ppo"})
    made = spec(bots={"russia": "russia/hawk"})
    assert made.bots["russia"] == "russia/hawk" and made.bots["usa"] == agents.DEFAULT_BOTS["usa"]


def test_a_checkpoint_plays_a_seat_and_the_simulated_games(tmp_path) -> None:
    import torch

    from reassurance.agents.checkpoint import write_export
    from reassurance.agents.networks import MaskedActorCritic
    from reassurance.classroom.debrief import simulate_chunk
    from reassurance.envs.actions import nvec

    env = coalition_v0.parallel_env(scenario="classroom")
    torch.manual_seed(0)
    net = MaskedActorCritic(env.observation_layout("uk").size, nvec(Role.MEMBER), (8,))
    write_export(tmp_path / "ckpt", "member", net, role="member", agents=["uk"],
                 scenario="classroom", iteration=1)  # fmt: skip
    checkpoints = {"tiny": str(tmp_path / "ckpt")}
    spec = make_spec(
        scenario="classroom", horizon=5, turn_seconds=60, seed=2, humans=["france"],
        bots={"uk": "checkpoint:tiny"}, checkpoints=checkpoints,
    )  # fmt: skip
    game = LiveGame(spec, checkpoints)
    assert game.bots["uk"].id.startswith("member/checkpoint:member")
    while not game.finished:
        game.resolve()
    first = simulate_chunk("classroom", spec.overrides(), spec.bots, checkpoints, [0, 1])
    again = simulate_chunk("classroom", spec.overrides(), spec.bots, checkpoints, [0, 1])
    assert json.dumps(first) == json.dumps(again) and len(first) == 2  # NaN-safe
