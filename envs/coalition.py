"""The PettingZoo adapter: a batch of one over the array rules in :mod:`rules`.

It batches the agents' actions, calls :func:`~reassurance.envs.rules.step`, and slices the
result into PettingZoo's per-agent dicts. The figures of each state are computed once (by the
rules); observations and masks are built from them; the turn report only when rendered.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from reassurance.envs.actions import COMPONENTS, RUNG_NAMES, Phase, Role, nvec
from reassurance.envs.figures import Derived, derived
from reassurance.envs.masks import legal_masks
from reassurance.envs.metrics import episode_summary
from reassurance.envs.observation import (
    Layout,
    ObservationView,
    build_observations,
    layouts,
    markdown_table,
    state_vector,
)
from reassurance.envs.render import Turn, header, turn_report
from reassurance.envs.rules import step
from reassurance.envs.scenario import Scenario, load_scenario
from reassurance.envs.state import Params, State, compile_params, draw_step, init_state

__all__ = ["CoalitionEnv", "ENV_VERSION"]

ENV_VERSION = "coalition_v0"

_PHASE_NAMES = tuple(phase.name.lower() for phase in Phase)


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

    {actions}

    An action outside the space raises ``ValueError``. A component value that the mask marks
    illegal is executed as that component's no-op (value 0).

    ## Observation space
    ``Dict({{"observations": Box(0, high, (n,), float32), "action_mask": Tuple(MultiBinary(k_1),
    ..., MultiBinary(k_c))}})``. ``action_mask`` holds one int8 vector per action component,
    in component order: exactly the argument ``MultiDiscrete.sample(mask=...)`` takes, and,
    concatenated, aligned with the logits of a MultiDiscrete action distribution (what a masking
    RLlib module needs). ``observations`` is built from named pieces, public first, then the
    role's private ones; read them with :meth:`view`:

    {pieces}

    ## Rewards
    Per role, every weight a scenario parameter (``rewards:``). Members: public security benefit
    scaled by GDP, private benefit of a visible role, minus deployment, home-readiness, exposure
    (larger when the US backstop is doubted), casualty, reneging and collective-risk costs. US:
    European security valued by its type, minus enabler and intervention costs and the audience
    cost of a guarantee not honoured, plus burden sharing. Ukraine: territory and the guarantee,
    minus war costs. Russia: territory and gains weighted by its resolve, minus war costs,
    sanctions, clashes with NATO forces and nuclear-signalling risk.

    ## Starting state
    War, the front at ``dynamics.initial_front``, no pledges; the US type and Russia's resolve
    drawn from the scenario's priors with the env's seeded generator.

    ## Episode end
    Truncation after ``horizon`` steps (or ``max_cycles`` if smaller); termination when the
    front falls below ``dynamics.collapse_front``. Every agent's final info holds
    ``"episode_summary"`` (``reassurance.envs.metrics.SUMMARY`` defines each figure).

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
        self.scenario = load_scenario(scenario, overrides)
        self.params: Params = compile_params(self.scenario)
        self.render_mode = render_mode
        self.horizon = self.params.horizon(max_cycles)
        self.member_ids = self.params.member_ids
        self.possible_agents = list(self.params.agents)
        self.agents: list[str] = []
        self._roles = {"usa": Role.USA, "ukraine": Role.UKRAINE, "russia": Role.RUSSIA}
        self._roles.update(dict.fromkeys(self.member_ids, Role.MEMBER))
        self._member_index = {m: i for i, m in enumerate(self.member_ids)}
        self._layouts = layouts(len(self.member_ids))
        self._action_spaces = {r: spaces.MultiDiscrete(nvec(r)) for r in Role}
        self._observation_spaces = {r: self._make_observation_space(r) for r in Role}
        self.state_space = spaces.Box(0.0, 2.0, (self._state_size(),), dtype=np.float32)
        self._state: State | None = None
        self._figures: Derived | None = None
        self.np_random = np.random.default_rng()
        self._history: list[Turn] = []

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
        self._set(init_state(self.params, 1, self.np_random))
        self._history = []
        infos = self._infos(None, None)
        if self.render_mode == "human":
            self.render()
        return self._observations(), infos

    def step(self, actions: Mapping[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        if self._state is None or self._figures is None or not self.agents:
            raise RuntimeError("call reset() before step(), and again after the episode ends")
        batch = self._batch_actions(actions)
        draws = draw_step(self.np_random, 1, len(self.member_ids))
        result = step(self.params, self._state, self._figures, batch, draws)
        self._state, self._figures = result.state, result.figures
        self._history.append(
            Turn(result.executed, result.escalation[0], result.state, result.figures)
        )
        terminated = bool(result.terminated[0])
        truncated = bool(result.truncated[0] or (result.state.t[0] >= self.horizon))
        truncated = truncated and not terminated
        rewards = {}
        for agent in self.agents:
            role = self.role(agent)
            r = result.rewards[role][0]
            rewards[agent] = float(r[self._member_index[agent]] if role is Role.MEMBER else r)
        infos = self._infos(result.escalation[0], result.rung[0])
        observations = self._observations()
        terminations = dict.fromkeys(self.agents, terminated)
        truncations = dict.fromkeys(self.agents, truncated)
        if terminated or truncated:
            summary = episode_summary(self.params, self._state)
            for info in infos.values():
                info["episode_summary"] = summary
            self.agents = []
        if self.render_mode == "human":
            self.render()
        return observations, rewards, terminations, truncations, infos

    def state(self) -> np.ndarray:
        """Global state for centralised critics (public pieces, hidden types, all members)."""
        if self._state is None or self._figures is None:
            raise RuntimeError("call reset() before state()")
        return state_vector(self.params, self._state, self._figures, self._layouts)[0]

    def render(self) -> str | None:
        if self.render_mode is None:
            return None
        if self._history:
            text = turn_report(self.params, self.horizon, self._history[-1], self.possible_agents)
        else:
            text = header(self.params, self.horizon, self._state)
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

    @property
    def figures(self) -> Derived:
        """The figures of the current state (force, enablers, deterrence, ...), as the rules
        computed them. For tests, teaching and analysis, not agents."""
        if self._figures is None:
            raise RuntimeError("call reset() first")
        return self._figures

    def set_game_state(self, state: State) -> None:
        """Replace the rules state (hand-set states in tests and teaching)."""
        if state.batch_size != 1:
            raise ValueError(f"the env holds one game; got a batch of {state.batch_size}")
        self._set(state)
        self.agents = list(self.possible_agents)

    def _set(self, state: State) -> None:
        self._state = state
        self._figures = derived(self.params, state)

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
        s, d = self._state, self._figures
        obs = build_observations(self.params, s, d, self._layouts)
        masks = legal_masks(self.params, s, d)
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

    def _infos(
        self, escalation: np.ndarray | None, rung: np.ndarray | None
    ) -> dict[str, dict[str, Any]]:
        s, p = self._state, self.params
        phase = _PHASE_NAMES[int(s.phase[0])]
        pledged = 1000.0 * (p.pledge_shares[s.pledge_level[0]] * p.capacity_k)
        deployed = 1000.0 * s.deployed_k[0]
        infos = {}
        for index, agent in enumerate(self.possible_agents):
            if agent not in self.agents:
                continue
            top = int(rung[index]) if rung is not None else 0
            info: dict[str, Any] = {
                "phase": phase,
                "escalation": float(escalation[index]) if escalation is not None else 0.0,
                "rung": top,
                "rung_name": RUNG_NAMES[top],
                "pledge_troops": 0.0,
                "deployed_troops": 0.0,
            }
            if self._roles[agent] is Role.MEMBER:
                i = self._member_index[agent]
                info["pledge_troops"] = float(pledged[i])
                info["deployed_troops"] = float(deployed[i])
            infos[agent] = info
        return infos


def _action_table() -> str:
    lines = []
    for role in Role:
        parts = [f"{c.name} ({', '.join(c.labels)})" for c in COMPONENTS[role]]
        lines.append(f"- {role.name.lower()}: " + " x ".join(parts) + ".")
    return "\n    ".join(lines)


CoalitionEnv.__doc__ = (CoalitionEnv.__doc__ or "").format(
    actions=_action_table(), pieces=markdown_table(indent="    ").lstrip()
)
