"""The model's US: one commitment axis, a US that plays its type, and no rule that reads the US
to decide a member (issue 11); the equilibrium analyser's known values."""

from __future__ import annotations

import numpy as np
import pytest

from reassurance import agents
from reassurance.envs import ScenarioError, coalition_v0, load_scenario
from reassurance.envs import coalition as coalition_module
from reassurance.envs.actions import Commit, Condition, Contribution, Phase, Signal
from reassurance.envs.masks import concatenate
from reassurance.envs.state import StepDraws
from reassurance.evaluation.equilibrium import (
    Game,
    MemberStrategy,
    Profile,
    best_response_dynamics,
    evaluate_profile,
    find_equilibria,
)
from tests.helpers import make_env, noop_actions, set_state, with_choice


def test_commitment_axis_runs_from_certainly_disengaged_to_certainly_committed() -> None:
    beliefs, priors = [], []
    for c in np.linspace(0.0, 1.0, 11):
        env = make_env("classroom", overrides={"usa.commitment": float(c)})
        belief = env.game_state.belief[0]
        beliefs.append(belief[1] + belief[2])
        priors.append(env.params.type_prior)
        assert belief[1] + belief[2] == pytest.approx(c)  # the belief that the US backs starts at c
    priors = np.array(priors)
    assert beliefs[0] == 0.0 and beliefs[-1] == 1.0
    np.testing.assert_allclose(priors[0], [1, 0, 0])
    np.testing.assert_allclose(priors[-1], [0, 0, 1])
    assert np.all(np.diff(beliefs) > 0)
    assert np.all(np.diff(priors[:, 0]) < 0) and np.all(np.diff(priors[:, 2]) > 0)
    np.testing.assert_allclose(priors.sum(axis=1), 1.0)


def test_draws_follow_the_commitment() -> None:
    for c, expected in ((0.0, {0}), (1.0, {2})):
        types = {
            int(make_env("classroom", seed, overrides={"usa.commitment": c}).game_state.us_type[0])
            for seed in range(20)
        }
        assert types == expected


def test_the_old_prior_fields_point_to_the_commitment_axis() -> None:
    with pytest.raises(ScenarioError, match="committed_prior was replaced by usa.commitment"):
        load_scenario("classroom", overrides={"usa.committed_prior": 0.5})


def test_by_type_us_plays_its_types_doctrine() -> None:
    env = coalition_v0.parallel_env(scenario="classroom")
    seat = agents.Seat.of(env, "usa")
    by_type = agents.make("usa/by-type")
    by_type.bind(seat)
    doctrines = ["usa/disengaged", "usa/conditional-backstop", "usa/committed-guarantor"]
    rows = []
    for seed in range(12):  # varied states: pledges, phases
        obs, _ = env.reset(seed=seed)
        for _ in range(seed % 5):
            obs, *_ = env.step({a: np.zeros_like(env.action_space(a).nvec) for a in env.agents})
        rows.append((obs["usa"]["observations"], concatenate(obs["usa"]["action_mask"])))
    view_slice = env.observation_layout("usa").slices()["us_type"]
    rng = np.random.default_rng(0)
    for us_type, doctrine_id in enumerate(doctrines):
        doctrine = agents.make(doctrine_id)
        doctrine.bind(seat)
        vectors = np.stack([v for v, _ in rows]).copy()
        vectors[:, view_slice] = np.eye(3)[us_type]
        masks = np.stack([m for _, m in rows])
        np.testing.assert_array_equal(
            by_type.act_batch(vectors, masks, rng), doctrine.act_batch(vectors, masks, rng)
        )


def test_by_type_is_the_default_us_everywhere() -> None:
    from reassurance.training.config import load_settings

    assert agents.DEFAULT_BOTS["usa"] == "usa/by-type"
    assert load_settings("ppo").opponent("usa").agent == "usa/by-type"


def _vote_env(deployed: bool, monkeypatch, vote_draw: float, **overrides: float):
    """Classroom in the deployment phase; Germany (whose deployments need a vote) holds a ground
    pledge; with ``deployed``, the UK and France already stand in Ukraine with 17,150 troops.
    The US is silent with no enablers: no backstop. Every vote draws ``vote_draw``."""
    env = make_env("classroom", 0, overrides={"force.threshold_troops": 17150, **overrides})
    level = [4, 4, 3]
    pledged = env.params.pledge_shares[np.array(level)] * env.params.capacity_k
    set_state(
        env,
        phase=Phase.DEPLOYMENT,
        deadline=99,
        pledge_level=level,
        pledge_type=[Contribution.GROUND] * 3,
        pledge_condition=[Condition.UNCONDITIONAL] * 3,
        deployed_k=[pledged[0], pledged[1], 0.0] if deployed else [0.0, 0.0, 0.0],
        ua_defence=3,
        us_signal=Signal.SILENT,
    )

    def draws(rng, batch, members):
        return StepDraws(
            vote=np.full((batch, members), vote_draw),
            detect=np.zeros(batch),
            outcome=np.zeros(batch),
            gap=np.ones(batch),
            front=np.zeros(batch),
        )

    monkeypatch.setattr(coalition_module, "draw_step", draws)
    return env


def _germany_deploys(env) -> bool:
    env.step(with_choice(noop_actions(env), env, "germany", commit=Commit.DEPLOY))
    return bool(env.game_state.deployed_k[0, 2] > 0)


def test_a_parliament_votes_on_the_missions_risk(monkeypatch) -> None:
    """p(pass) = parliament_pass - parliament_risk x risk, risk = exposure x (1 - q-hat) x
    (1 - backstop): a force that deters makes the same draw pass that fails without one."""
    for deployed in (True, False):
        env = _vote_env(deployed, monkeypatch, vote_draw=0.5)
        force = env.scenario.force
        risk = 1.0 - env.figures.deterrence[0]  # ground troops in Ukraine, no backstop
        p_pass = np.clip(force.parliament_pass - force.parliament_risk * risk, 0, 1)
        passed = _germany_deploys(env)
        assert passed == (p_pass > 0.5)
        assert passed == deployed, (deployed, p_pass)


def test_without_a_risk_weight_the_vote_ignores_the_force_and_the_us(monkeypatch) -> None:
    for deployed in (True, False):
        env = _vote_env(deployed, monkeypatch, vote_draw=0.85, **{"force.parliament_risk": 0.0})
        assert _germany_deploys(env)  # 0.85 < parliament_pass = 0.9, whatever the risk


# ----------------------------------------------------------------------------- the analyser


def _two_player_game() -> Game:
    """Two members; deploying earns only a visible role, in proportion to leadership, and costs
    its budget share: the UK (leadership 0.9) gains by its largest ground pledge, France
    (leadership 0) loses by any deployment. No public good, exposure or collective risk; Russia
    seeks and keeps a ceasefire; the US is certainly disengaged, so pledges that wait for a US
    backstop never deploy. By hand: the UK's best strategy is its largest ground pledge,
    unconditional: deployed at once, it earns a visible role (0.62 a step) from the step the
    ceasefire is agreed, a step earlier than a pledge that waits for the ceasefire, for two
    steps of cost (0.04 a step) before; France stays out (or pledges what never deploys)."""
    overrides = {
        "members": [
            {"id": "uk", "name": "United Kingdom", "gdp_usd_bn": 3520, "defence_usd_bn": 82.0,
             "active_personnel_k": 138, "home_threat": 0.0, "parliament_vote": False,
             "leadership": 0.9},
            {"id": "france", "name": "France", "gdp_usd_bn": 3120, "defence_usd_bn": 64.0,
             "active_personnel_k": 205, "home_threat": 0.0, "parliament_vote": False,
             "leadership": 0.0},
        ],
        "force.threshold_troops": 10000,
        "rewards.member.security": 0.0,
        "rewards.member.exposure": 0.0,
        "rewards.member.casualties": 0.0,
        "rewards.member.home_readiness": 0.0,
        "rewards.member.visible_role": 1.0,
        "collective_risk.loss": 0.0,
    }  # fmt: skip
    grid = (
        MemberStrategy(0),
        *(
            MemberStrategy(level, Contribution.GROUND, condition)
            for level in (2, 4)
            for condition in Condition
        ),
    )
    return Game(
        scenario="classroom",
        commitment=0.0,
        overrides=overrides,
        member_grid=grid,
        russia_grid=(("russia/negotiator", {}),),
    )


def test_analyser_finds_the_equilibrium_known_by_hand() -> None:
    game = _two_player_game()
    grid = game.member_grid
    expected_uk = grid.index(MemberStrategy(4, Contribution.GROUND, Condition.UNCONDITIONAL))
    seeds = np.arange(2)
    for start in (Profile((0, 0), 0), Profile((len(grid) - 1, len(grid) - 1), 0)):
        search = best_response_dynamics(game, start, seeds, russia_moves=False)
        assert search.status == "converged"
        uk, france = search.profile.members
        assert uk == expected_uk
        assert grid[france].level == 0 or grid[france].condition == Condition.IF_US_BACKSTOP
    measured = evaluate_profile(
        game, search.profile, np.arange(100, 104), member_ids=["uk", "france"], russia_moves=False
    )
    figures, epsilon = measured.figures, measured.epsilon
    assert epsilon[0] == pytest.approx(0.0, abs=1e-12)  # nobody gains by deviating
    assert figures["contributors"][0] == 1.0 and figures["contributors_ground"][0] == 1.0


def test_epsilon_is_positive_off_equilibrium_and_names_who_gains() -> None:
    game = _two_player_game()
    grid = game.member_grid
    france_in = grid.index(MemberStrategy(4, Contribution.GROUND, Condition.UNCONDITIONAL))
    measured = evaluate_profile(
        game, Profile((0, france_in), 0), np.arange(2), member_ids=["uk", "france"],
        russia_moves=False,
    )  # fmt: skip
    epsilon, who = measured.epsilon, measured.epsilon_player
    assert epsilon[0] > 0.1 and epsilon[1] > 0.0 and who in ("uk", "france")


def test_find_equilibria_reports_each_profile_with_its_starts() -> None:
    game = _two_player_game()
    searches, equilibria = find_equilibria(
        game, search_seeds=np.arange(2), eval_seeds=np.arange(50, 52), random_starts=1, rounds=4
    )
    assert len(searches) == 4  # all out, all in, the doctrines, one random start
    assert sum(len(eq.starts) for eq in equilibria) == 4
    for eq in equilibria:
        assert eq.status == "converged"
        assert eq.epsilon[1] <= eq.epsilon[0] <= eq.epsilon[2]
        low, mean, high = (eq.figures["troops_deployed"][k] for k in (1, 0, 2))
        assert low <= mean <= high


def test_equilibrium_command_writes_its_files(tmp_path, capsys) -> None:
    import csv

    from reassurance.cli import main

    out = tmp_path / "eq"
    args = ["equilibrium", "--scenario", "classroom", "--quick", "--seeds", "2"]
    assert main([*args, "--commitment", "0,1", "--rounds", "2", "--out", str(out)]) == 0
    rows = list(csv.DictReader((out / "equilibria.csv").open()))
    assert {float(r["commitment"]) for r in rows} == {0.0, 1.0}
    needed = {
        "commitment", "start", "profile", "contributors", "troops_deployed", "threshold_met",
        "epsilon", "n_seeds", "contributors_low", "contributors_high",
    }  # fmt: skip
    assert needed <= set(rows[0])
    assert all(r["n_seeds"] == "2" for r in rows)
    text = (out / "equilibria.md").read_text()
    assert "commitment 0.0" in text and "commitment 1.0" in text and "epsilon" in text
    assert main([*args, "--commitment", "0,2", "--out", str(out)]) == 2
    assert "--commitment" in capsys.readouterr().err
