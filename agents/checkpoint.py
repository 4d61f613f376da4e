"""Policies restored from training checkpoints: inference only, plain torch, no Ray runtime.

Every training checkpoint carries, beside RLlib's own files, an export of each trained module
under ``policies/``: ``<module>.pt`` (the network's weights and shape) and ``index.json`` (which
role and agents each module played, on which scenario, at which iteration).

>>> policy = from_checkpoint("runs/classroom", role="member")  # doctest: +SKIP

RLlib's connectors are not replayed here: the training env's only observation transform is
concatenating the per-component action masks (``reassurance.training.rllib_env``), which
:class:`CheckpointPolicy` does itself.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from reassurance.agents.networks import MaskedActorCritic
from reassurance.agents.policy import Policy, Rng, Seat
from reassurance.envs.actions import Role

__all__ = [
    "CheckpointPolicy",
    "Export",
    "find_checkpoint",
    "run_checkpoints",
    "find_export",
    "from_checkpoint",
    "list_exports",
    "load_export",
    "write_export",
]

EXPORT_DIR = "policies"
INDEX = "index.json"


@dataclass(frozen=True)
class Export:
    """One exported module: where it is and what it played."""

    path: Path
    module_id: str
    role: str
    agents: tuple[str, ...]
    obs_dim: int
    nvec: tuple[int, ...]
    hidden: tuple[int, ...]
    scenario: str
    iteration: int


def write_export(
    checkpoint: str | Path,
    module_id: str,
    net: MaskedActorCritic,
    *,
    role: str,
    agents: list[str],
    scenario: str,
    iteration: int,
) -> Path:
    """Save one trained network into ``checkpoint/policies/`` and update its index."""
    folder = Path(checkpoint) / EXPORT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{module_id}.pt"
    state = {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}
    torch.save({"state_dict": state}, path)
    index_path = folder / INDEX
    index = json.loads(index_path.read_text()) if index_path.exists() else {}
    index[module_id] = {
        "file": path.name,
        "role": role,
        "agents": list(agents),
        "obs_dim": net.obs_dim,
        "nvec": net.nvec,
        "hidden": net.hidden,
        "scenario": scenario,
        "iteration": iteration,
    }
    index_path.write_text(json.dumps(index, indent=2, sort_keys=True))
    return path


_CHECKPOINT_NAME = re.compile(r"iter_\d{6}")


def run_checkpoints(run_dir: str | Path) -> list[Path]:
    """A run's finished checkpoints, oldest first: ``checkpoints/iter_NNNNNN`` folders with an
    export index. Folders still being written (``iter_NNNNNN.partial``) are not among them."""
    folder = Path(run_dir) / "checkpoints"
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.iterdir()
        if _CHECKPOINT_NAME.fullmatch(p.name) and (p / EXPORT_DIR / INDEX).is_file()
    )


def find_checkpoint(path: str | Path) -> Path:
    """The checkpoint folder for ``path``: a checkpoint itself, or a run's latest checkpoint."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"checkpoint {str(path)!r} does not exist")
    if path.is_file() and path.suffix == ".pt":
        path = path.parent.parent
    if (path / EXPORT_DIR / INDEX).is_file():
        return path
    finished = run_checkpoints(path)
    if finished:
        return finished[-1]
    raise FileNotFoundError(
        f"{str(path)!r} is neither a training checkpoint (with {EXPORT_DIR}/{INDEX}) nor a run "
        "directory with checkpoints/iter_*"
    )


def list_exports(path: str | Path) -> dict[str, Export]:
    """Every exported module of a checkpoint (or of a run's latest checkpoint), by module id."""
    folder = find_checkpoint(path) / EXPORT_DIR
    index = json.loads((folder / INDEX).read_text())
    return {
        module_id: Export(
            path=folder / entry["file"],
            module_id=module_id,
            role=entry["role"],
            agents=tuple(entry["agents"]),
            obs_dim=int(entry["obs_dim"]),
            nvec=tuple(entry["nvec"]),
            hidden=tuple(entry["hidden"]),
            scenario=entry["scenario"],
            iteration=int(entry["iteration"]),
        )
        for module_id, entry in sorted(index.items())
    }


def find_export(path: str | Path, role: str, module_id: str | None = None) -> Export:
    """The export that plays ``role`` (or the one named ``module_id``) in a checkpoint."""
    Role.named(role)  # an unknown role is an error naming the roles
    exports = list_exports(path)
    if module_id is not None:
        if module_id not in exports:
            raise ValueError(f"no module {module_id!r} in {str(path)!r}; it has {sorted(exports)}")
        found = exports[module_id]
        if found.role != role:
            raise ValueError(f"module {module_id!r} plays role {found.role!r}, not {role!r}")
        return found
    of_role = [e for e in exports.values() if e.role == role]
    if len(of_role) == 1:
        return of_role[0]
    if not of_role:
        roles = sorted({e.role for e in exports.values()})
        raise ValueError(f"{str(path)!r} has no trained module for role {role!r}; it has {roles}")
    raise ValueError(
        f"{str(path)!r} has one module per agent for role {role!r}: pick one with module_id= "
        f"from {[e.module_id for e in of_role]}"
    )


def load_export(path: str | Path) -> tuple[MaskedActorCritic, Export]:
    """The network saved in an export file, and its description."""
    path = Path(path)
    export = next(
        (e for e in list_exports(path.parent.parent).values() if e.path.name == path.name), None
    )
    if export is None:
        raise FileNotFoundError(f"{str(path)!r} is not listed in its checkpoint's {INDEX}")
    net = MaskedActorCritic(export.obs_dim, export.nvec, export.hidden)
    payload = torch.load(path, map_location="cpu", weights_only=True)
    net.load_state_dict(payload["state_dict"])
    net.eval()
    return net, export


class CheckpointPolicy(Policy):
    """A trained module as a :class:`Policy`.

    ``greedy``: play each component's most likely legal value instead of sampling with the
    generator ``act`` receives.
    """

    doctrine = "A policy trained with PPO, restored from a checkpoint."
    tags = frozenset({"trained", "checkpoint"})

    def __init__(self, export: Export, *, greedy: bool = False) -> None:
        super().__init__(greedy=greedy)
        self.export = export
        self.role = export.role  # type: ignore[misc] - one class, any role
        self.name = f"checkpoint:{export.module_id}@{export.iteration}"  # type: ignore[misc]
        self.greedy = greedy
        self.net, _ = load_export(export.path)
        self._splits = np.cumsum(export.nvec)[:-1]

    def bind(self, seat: Seat) -> None:
        size = sum(seat.layout.sizes)
        if size != self.export.obs_dim:
            raise ValueError(
                f"checkpoint module {self.export.module_id!r} was trained on "
                f"{self.export.scenario!r} with {self.export.obs_dim} observation values; the "
                f"seat of {seat.agent!r} has {size} (a scenario with another number of members?)"
            )
        super().bind(seat)

    @torch.no_grad()
    def act_batch(self, observations: np.ndarray, masks: np.ndarray, rng: Rng) -> np.ndarray:
        """One forward pass for all rows; each component's value is sampled from the masked
        softmax (or its most likely legal value when ``greedy``).

        With one generator per row, row ``i`` draws from generator ``i`` exactly as ``act`` on
        that row does; with one generator for the batch, all rows draw from it at once.
        """
        # The training env's one transform (training.rllib_env.flat_observation), without Ray.
        obs = torch.as_tensor(np.asarray(observations, np.float32))
        mask = torch.as_tensor(np.asarray(masks, np.float32))
        logits = self.net.logits(obs, mask).numpy().astype(np.float64)
        parts = np.split(logits, self._splits, axis=-1)
        if self.greedy:
            return np.stack([part.argmax(axis=-1) for part in parts], axis=-1).astype(np.int64)
        probs = [np.exp(part - part.max(axis=-1, keepdims=True)) for part in parts]
        probs = [p / p.sum(axis=-1, keepdims=True) for p in probs]
        if isinstance(rng, np.random.Generator):
            draws = rng.random((len(obs), len(probs)))
            picks = [
                np.minimum((np.cumsum(p, axis=-1) <= draws[:, [c]]).sum(axis=-1), p.shape[-1] - 1)
                for c, p in enumerate(probs)
            ]
            return np.stack(picks, axis=-1).astype(np.int64)
        if len(rng) != len(obs):
            raise ValueError(f"got {len(rng)} generators for {len(obs)} observations")
        if any(np.isnan(p).any() for p in probs):
            raise ValueError(f"checkpoint module {self.export.module_id!r} gave NaN probabilities")
        # Row i's generator draws one double per component, in component order, and picks as
        # ``g.choice(n, p=p[i])`` does (cdf = p.cumsum() / its last value; the first index whose
        # cdf exceeds the draw): the same values and the same generator state, without
        # ``choice``'s per-call checks, which cost more than the network on large batches.
        draws = np.array([rng[i].random(len(probs)) for i in range(len(obs))]).reshape(
            len(obs), len(probs)
        )
        picks = []
        for c, p in enumerate(probs):
            cdf = np.cumsum(p, axis=-1)
            cdf /= cdf[:, -1:]
            picks.append((cdf <= draws[:, [c]]).sum(axis=-1))
        return np.stack(picks, axis=-1).astype(np.int64).reshape(len(obs), len(probs))


def from_checkpoint(
    path: str | Path, role: str, module_id: str | None = None, *, greedy: bool = False
) -> CheckpointPolicy:
    """The policy a training run learned for ``role``; ``path`` is a run or checkpoint folder.

    With one module per agent, name it with ``module_id`` (e.g. ``"france"``).
    """
    return CheckpointPolicy(find_export(path, role, module_id), greedy=greedy)
