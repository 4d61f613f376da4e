"""The PettingZoo adapter: a batch of one over the array rules in :mod:`rules`."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from enum import IntEnum
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from reassurance.envs import actions as A
from reassurance.envs.actions import COMPONENTS, Role, nvec
from reassurance.envs.observation import (
    PIECE_DOCS,
    Layout,
    ObservationView,
    build_observations,
    layouts,
    state_vector,
)
from reassurance.envs.rules import (
    Params,
    State,
    compile_params,
    derived,
    draw_step,
    episode_summary,
    init_state,
    legal_masks,
    step,
)
from reassurance.envs.scenario import Scenario, load_scenario

__all__ = ["CoalitionEnv", "ENV_VERSION"]

ENV_VERSION = "coalition_v0"

_PHASE_NAMES = ("war", "negotiation", "deployment", "test")


def _label(enum: type[IntEnum], value: Any) -> str:
    return enum(int(value)).name.lower()


def _piece_table() -> str:
    rows = "\n".join(f"    | ``{name}`` | {doc} |" for name, (doc, _) in PIECE_DOCS.items())
    return "    | piece | meaning |\n    |---|---|\n" + rows


class CoalitionEnv(ParallelEnv):
    """A reassurance force for Ukraine after a ceasefire, and whether America backs it.

        ## Description
        Coalition members decide whether to pledge and deploy a reassurance force; the US, whose
        type (disengaged, conditional, committed) is private, signals and may back it; Russia and
        Ukraine fight, negotiate a ceasefire, and Russia then tests the force. The game runs in
        phases war -> negotiation -> deployment -> test, and back to war when a ceasefire breaks.
        One step is two weeks. The model and every formula are in ``docs/model.md``; all numbers
        come from the scenario file (``configs/scenarios``).

        ## Agents
        ``usa``, one agent per coalition member (``uk``, ``france``, ...), ``ukraine``, ``russia``.

        ## Action space
        ``MultiDiscrete`` per role; component order and values (value 0 is always the legal no-op):

        - member: pledge (keep, none, token, 5%, 10%, 20% of deployable capacity) x contribution
          (ground, air, maritime, isr, logistics, training, fortification) x condition
          (unconditional, if US backstop, after ceasefire) x commit (hold, deploy, withdraw) x
          response to a violation (none, protest, sanctions, reinforce, engage) x aid (0-3).
        - usa: signal (silent, verbal, conditional backstop, formal guarantee) x enablers (0-3)
          x pressure (none, on Ukraine, sanctions on Russia) x response (none, statement,
          sanctions, ISR/air cover, strikes).
        - ukraine: defence effort (0-3) x fortify (no, yes) x ceasefire (none, offer, accept) x
          demand (none, a force, a force and a US backstop) x retaliate (no, strike).
        - russia: offensive (0-3) x infrastructure strikes (no, yes) x ceasefire (none, offer
          without foreign troops, offer with foreign troops allowed, accept) x test (comply,
          probe, limited violation, major offensive) x threat (none, rhetoric, nuclear signalling).

        An action outside the space raises ``ValueError``. A component value that the mask marks
        illegal is executed as that component's no-op (value 0).

        ## Observation space
        ``Dict({"observations": Box(0, 2, (n,), float32),
    "action_mask": Tuple(MultiBinary(k_1), ..., MultiBinary(k_c))})``.
        ``action_mask`` holds one int8 vector per action component, in component order: exactly the
        argument ``MultiDiscrete.sample(mask=...)`` takes, and, concatenated, aligned with the
        logits of a MultiDiscrete action distribution (what a masking RLlib module needs).
        ``observations`` is built from named pieces, public first, then the role's private ones;
        read them with :meth:`view`.

    {pieces}

        ## Rewards
    Per role, every weight a scenario parameter (``rewards:``).
    Members: public security benefit scaled by GDP, private benefit of a visible role, minus
    deployment, home-readiness, exposure (larger when the US backstop is doubted), casualty,
    reneging and collective-risk costs. US: European security valued by its type, minus
    enabler and intervention costs and the audience cost of a guarantee not honoured, plus
    burden sharing. Ukraine: territory and the guarantee, minus war costs. Russia: territory
    and gains weighted by its resolve, minus war costs, sanctions, clashes with NATO forces and
    nuclear-signalling risk.

    ## Starting state
        War, the front at ``dynamics.initial_front``, no pledges; the US type and Russia's resolve
        drawn from the scenario's priors with the env's seeded generator.

        ## Episode end
        Truncation after ``horizon`` steps (or ``max_cycles`` if smaller); termination when the
        front falls below ``dynamics.collapse_front``. Every agent's final info holds
        ``"episode_summary"``.

        ## Arguments
        ``scenario`` (id, path or :class:`Scenario`), ``overrides`` (dict, dotted keys allowed),
        ``render_mode`` (``"ansi"`` or ``"human"``), ``max_cycles`` (int or None).

        ## Version history
        - v0: first release.
    """

    metadata = {
        "name": ENV_VERSION,
        "render_modes": ["ansi", "human"],
        "is_parallelizable": True,
    }

    def __init__(
        self,
        scenario: str | Path | Scenario = "brussels-2025-04",
        overrides: Mapping[str, Any] | None = None,
        render_mode: str | None = None,
        max_cycles: int | None = None,
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode {render_mode!r} is not supported; "
                f"allowed: {self.metadata['render_modes']} or None"
            )
        if max_cycles is not None and (not isinstance(max_cycles, int) or max_cycles < 1):
            raise ValueError(f"max_cycles must be a positive int or None, got {max_cycles!r}")
        self.scenario = load_scenario(scenario, overrides)
        self.params: Params = compile_params(self.scenario)
        self.render_mode = render_mode
        self.horizon = min(self.scenario.horizon, max_cycles or self.scenario.horizon)
        self.member_ids = self.params.member_ids
        self.possible_agents = ["usa", *self.member_ids, "ukraine", "russia"]
        self.agents: list[str] = []
        self._roles = {"usa": Role.USA, "ukraine": Role.UKRAINE, "russia": Role.RUSSIA}
        self._roles.update({m: Role.MEMBER for m in self.member_ids})
        self._member_index = {m: i for i, m in enumerate(self.member_ids)}
        self._layouts = layouts(len(self.member_ids))
        self._action_spaces = {r: spaces.MultiDiscrete(nvec(r)) for r in Role}
        self._observation_spaces = {r: self._make_observation_space(r) for r in Role}
        self.state_space = spaces.Box(0.0, 2.0, (self._state_size(),), dtype=np.float32)
        self._state: State | None = None
        self._last_infos: dict[str, dict[str, Any]] = {}
        self.np_random = np.random.default_rng()
        self._history: list[str] = []

    # -------------------------------------------------------------- spaces

    def _make_observation_space(self, role: Role) -> spaces.Dict:
        layout = self._layouts[role]
        return spaces.Dict(
            {
                "observations": spaces.Box(0.0, layout.high(), dtype=np.float32),
                "action_mask": spaces.Tuple([spaces.MultiBinary(int(n)) for n in nvec(role)]),
            }
        )

    def _state_size(self) -> int:
        layout = self._layouts
        public = sum(layout[Role.UKRAINE].sizes)
        private = [sum(layout[r].sizes) - public for r in (Role.USA, Role.RUSSIA, Role.MEMBER)]
        return public + private[0] + private[1] + private[2] * len(self.member_ids)

    def role(self, agent: str) -> Role:
        """The role of an agent id."""
        try:
            return self._roles[agent]
        except KeyError:
            raise ValueError(
                f"unknown agent {agent!r}; agents are {self.possible_agents}"
            ) from None

    @functools.cache  # noqa: B019 - one space object per agent, as PettingZoo asks
    def observation_space(self, agent: str) -> spaces.Dict:
        return self._observation_spaces[self.role(agent)]

    @functools.cache  # noqa: B019
    def action_space(self, agent: str) -> spaces.MultiDiscrete:
        return self._action_spaces[self.role(agent)]

    def view(
        self, agent: str, observation: Mapping[str, np.ndarray] | np.ndarray
    ) -> ObservationView:
        """Read an agent's observation by piece name (``view["front"]``)."""
        vector = observation["observations"] if isinstance(observation, Mapping) else observation
        return ObservationView(self._layouts[self.role(agent)], vector)

    def observation_layout(self, agent: str) -> Layout:
        """Names, sizes and offsets of the pieces of an agent's observation vector."""
        return self._layouts[self.role(agent)]

    def action_labels(self, agent: str) -> list[tuple[str, tuple[str, ...]]]:
        """``(component name, value labels)`` for each component of the agent's action."""
        return [(c.name, c.labels) for c in COMPONENTS[self.role(agent)]]

    # -------------------------------------------------------------- API

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
        if seed is not None:
            self.np_random = np.random.default_rng(seed)
        self.agents = list(self.possible_agents)
        self._state = init_state(self.params, 1, self.np_random)
        self._history = []
        infos = {agent: self._info(agent, None, None) for agent in self.agents}
        self._last_infos = infos
        if self.render_mode == "human":
            self.render()
        return self._observations(), infos

    def step(self, actions: Mapping[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        if self._state is None or not self.agents:
            raise RuntimeError("call reset() before step(), and again after the episode ends")
        batch = self._batch_actions(actions)
        result = step(
            self.params, self._state, batch, draw_step(self.np_random, 1, len(self.member_ids))
        )
        self._state = result.state
        terminated = bool(result.terminated[0])
        truncated = bool(result.truncated[0] or (result.state.t[0] >= self.horizon))
        truncated = truncated and not terminated
        rewards = {}
        for agent in self.agents:
            role = self.role(agent)
            r = result.rewards[role][0]
            rewards[agent] = float(r[self._member_index[agent]] if role is Role.MEMBER else r)
        infos = {
            agent: self._info(agent, result.escalation[0], result.rung[0]) for agent in self.agents
        }
        observations = self._observations()
        terminations = dict.fromkeys(self.agents, terminated)
        truncations = dict.fromkeys(self.agents, truncated)
        self._history.append(self._turn_report(result.executed, result.escalation[0]))
        if terminated or truncated:
            summary = episode_summary(self.params, self._state)
            for info in infos.values():
                info["episode_summary"] = summary
            self.agents = []
        self._last_infos = infos
        if self.render_mode == "human":
            self.render()
        return observations, rewards, terminations, truncations, infos

    def state(self) -> np.ndarray:
        """Global state for centralised critics (public pieces, hidden types, all members)."""
        if self._state is None:
            raise RuntimeError("call reset() before state()")
        return state_vector(self.params, self._state, self._layouts)[0]

    def render(self) -> str | None:
        if self.render_mode is None:
            return None
        text = self._history[-1] if self._history else self._header()
        if self.render_mode == "human":
            print(text)
            return None
        return text

    def close(self) -> None:
        pass

    # -------------------------------------------------------------- helpers

    @property
    def game_state(self) -> State:
        """The underlying rules state (a batch of one). For tests and analysis, not agents."""
        if self._state is None:
            raise RuntimeError("call reset() first")
        return self._state

    def set_game_state(self, state: State) -> None:
        """Replace the rules state (hand-set states in tests and teaching)."""
        if state.batch_size != 1:
            raise ValueError(f"the env holds one game; got a batch of {state.batch_size}")
        self._state = state
        self.agents = list(self.possible_agents)

    def _batch_actions(self, actions: Mapping[str, Any]) -> dict[Role, np.ndarray]:
        unknown = sorted(set(actions) - set(self.agents))
        if unknown:
            raise ValueError(
                f"actions for unknown or finished agents {unknown}; live: {self.agents}"
            )
        M = len(self.member_ids)
        batch = {
            Role.MEMBER: np.zeros((1, M, len(nvec(Role.MEMBER))), np.int64),
            Role.USA: np.zeros((1, len(nvec(Role.USA))), np.int64),
            Role.UKRAINE: np.zeros((1, len(nvec(Role.UKRAINE))), np.int64),
            Role.RUSSIA: np.zeros((1, len(nvec(Role.RUSSIA))), np.int64),
        }
        for agent, action in actions.items():
            space = self.action_space(agent)
            value = self._validate(agent, action, space)
            role = self.role(agent)
            if role is Role.MEMBER:
                batch[role][0, self._member_index[agent]] = value
            else:
                batch[role][0] = value
        return batch

    @staticmethod
    def _validate(agent: str, action: Any, space: spaces.MultiDiscrete) -> np.ndarray:
        try:
            value = np.asarray(action)
        except (TypeError, ValueError):
            value = None
        ok = (
            value is not None
            and value.shape == space.shape
            and np.issubdtype(value.dtype, np.integer)
            and bool(np.all((value >= 0) & (value < space.nvec)))
        )
        if not ok:
            raise ValueError(
                f"action {action!r} for agent {agent!r} is outside its action space {space}: "
                f"expected {len(space.nvec)} integers with 0 <= a[i] < {space.nvec.tolist()}"
            )
        return value.astype(np.int64)

    def _observations(self) -> dict[str, dict[str, Any]]:
        s = self._state
        obs = build_observations(self.params, s, self._layouts)
        masks = legal_masks(self.params, s)
        out = {}
        for agent in self.agents:
            role = self.role(agent)
            if role is Role.MEMBER:
                i = self._member_index[agent]
                vector = obs[role][0, i]
                mask = tuple(m[0, i].astype(np.int8) for m in masks[role])
            else:
                vector = obs[role][0]
                mask = tuple(m[0].astype(np.int8) for m in masks[role])
            out[agent] = {"observations": vector, "action_mask": mask}
        return out

    def _info(
        self, agent: str, escalation: np.ndarray | None, rung: np.ndarray | None
    ) -> dict[str, Any]:
        s = self._state
        index = self.possible_agents.index(agent)
        info: dict[str, Any] = {
            "phase": _PHASE_NAMES[int(s.phase[0])],
            "escalation": float(escalation[index]) if escalation is not None else 0.0,
            "rung": int(rung[index]) if rung is not None else 0,
            "rung_name": A.RUNG_NAMES[int(rung[index]) if rung is not None else 0],
            "pledge_troops": 0.0,
            "deployed_troops": 0.0,
        }
        if self.role(agent) is Role.MEMBER:
            i = self._member_index[agent]
            pledged = self.params.pledge_shares[s.pledge_level[0, i]] * self.params.capacity_k[i]
            info["pledge_troops"] = float(1000.0 * pledged)
            info["deployed_troops"] = float(1000.0 * s.deployed_k[0, i])
        return info

    # -------------------------------------------------------------- rendering

    def _header(self) -> str:
        s = self._state
        if s is None:
            return f"{self.scenario.title} (not started: call reset())"
        return (
            f"{self.scenario.title}: step {int(s.t[0])}/{self.horizon}, "
            f"phase {_PHASE_NAMES[int(s.phase[0])]}, "
            f"Ukraine holds {100 * s.front[0]:.1f}% of its territory"
        )

    def _turn_report(self, executed: dict[Role, np.ndarray], escalation: np.ndarray) -> str:
        s, p = self._state, self.params
        d = derived(p, s)
        sc = self.scenario
        phase = _PHASE_NAMES[int(s.phase[0])]
        pending = _label(A.PendingOffer, s.pending[0])
        lines = [f"== Turn {int(s.t[0])}/{self.horizon} ({sc.id}) " + "=" * 20]
        lines.append(
            f"Phase: {phase:<12} Front: Ukraine holds {100 * s.front[0]:.1f}%"
            f"   Pending offer: {pending}"
        )
        lines.append(
            f"Force: {d.force[0]:,.0f} / {sc.force.threshold_troops:,.0f} troops deployed"
            f" ({d.pledged_force[0]:,.0f} pledged)   Enablers E={d.enablers[0]:.2f}"
            f"   Deterrence q={d.deterrence[0]:.2f}"
            + ("   DETERRENCE GAP OPEN" if s.gap_open[0] else "")
        )
        usa = executed[Role.USA][0]
        lines.append(
            f"US: signal {_label(A.Signal, usa[0])}, enablers {int(usa[1])}/3, "
            f"pressure {_label(A.Pressure, usa[2])}, response {_label(A.UsResponse, usa[3])}"
            f"   Public belief US backs: {d.mu[0]:.2f}"
        )
        ru = executed[Role.RUSSIA][0]
        test = ""
        if ru[3]:
            seen = "detected" if s.violation_detected[0] else "undetected"
            worked = ", succeeded" if s.violation_succeeded[0] else ", failed"
            test = f", test {_label(A.TestAction, ru[3])} ({seen}{worked})"
        lines.append(
            f"Russia: offensive {int(ru[0])}/3, strikes {'yes' if ru[1] else 'no'}, "
            f"ceasefire {_label(A.RussiaCeasefire, ru[2])}{test}, threat {_label(A.Threat, ru[4])}"
        )
        ua = executed[Role.UKRAINE][0]
        lines.append(
            f"Ukraine: defence {int(ua[0])}/3, fortify {'yes' if ua[1] else 'no'}, "
            f"ceasefire {_label(A.UkraineCeasefire, ua[2])}, demand {_label(A.Demand, ua[3])}"
        )
        lines.append(
            f"{'member':<12}{'pledged':>9}{'deployed':>10}  type/condition                response"
        )
        for i, m in enumerate(self.member_ids):
            level = int(s.pledge_level[0, i])
            pledged = 1000 * p.pledge_shares[level] * p.capacity_k[i]
            kind = _label(A.Contribution, s.pledge_type[0, i])
            cond = _label(A.Condition, s.pledge_condition[0, i])
            resp = _label(A.MemberResponse, s.member_response[0, i])
            detail = f"{kind}/{cond}" if level else "-"
            lines.append(
                f"{m:<12}{pledged:>9,.0f}{1000 * s.deployed_k[0, i]:>10,.0f}  {detail:<30}{resp}"
            )
        agents = self.possible_agents
        top = int(np.argmax(escalation))
        lines.append(
            f"Escalation: mean {escalation.mean():.1f}, max {escalation.max():.0f} ({agents[top]})"
        )
        return "\n".join(lines)


CoalitionEnv.__doc__ = CoalitionEnv.__doc__.replace("{pieces}", _piece_table())
