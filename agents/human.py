"""A person at a terminal, behind the same :class:`~reassurance.agents.Policy` interface as a bot.

>>> import io
>>> policy = HumanPolicy("member", stdin=io.StringIO("pledge=10% commit=deploy\\n"))

Each turn the policy writes the player's view (observation pieces by name) and the legal values
of every action component, then reads one line: ``component=value`` pairs such as
``pledge=10% contribution=ground commit=deploy``. Names may be shortened while they stay unique
(``pl=10% contr=gr``); a value may also be its position in the list (``aid=2``). Components the line
leaves out keep the player's *standing order* from the last turn, because most components (a
member's response and aid, every US component, ...) are re-chosen each step and a value of 0
would silently drop them; ``pledge`` is a one-off change and goes back to ``keep``. A standing
order that the mask forbids this turn is played as that component's no-op (value 0) and kept
for later turns. ``pass`` plays the no-op everywhere and clears the orders.

Bad input (an unknown name, a number out of range, a value the mask forbids, a line that is not
``component=value``) gets a message that names what was wrong and what is allowed, and a new
prompt. ``quit`` and the end of input raise :class:`GameAbandoned`. The policy never draws from
the random generator, so a seeded game with the same input lines is the same game.
"""

from __future__ import annotations

import re
import sys
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

import numpy as np

from reassurance.agents.policy import Policy, Seat
from reassurance.envs.actions import COMPONENTS, Role
from reassurance.envs.observation import ObservationView, describe

__all__ = ["GameAbandoned", "HumanPolicy", "MoveError", "parse_move"]

_WIDTH = 78  # fits an 80-column terminal with the two-space indent

# Components whose value 0 means "keep what you have": a choice of theirs is played once.
_ONE_OFF = {Role.MEMBER: frozenset({"pledge"})}
# Only used with a pledge change, so "plays: ..." names them only then.
_WITH_PLEDGE = frozenset({"contribution", "condition"})

# The pieces shown every turn (``view`` shows them all): what the turn report does not say.
_SITUATION = (
    "phase", "front", "pending_offer", "foreign_troops_allowed", "deployment_time_left",
    "force_ratio", "pledged_ratio", "enablers", "deterrence", "deterrence_gap", "us_signal",
    "us_belief",
)  # fmt: skip
_OWN: dict[Role, tuple[str, ...]] = {
    Role.MEMBER: (
        "self_pledge", "self_contribution", "self_condition", "self_deployed",
        "self_condition_met", "self_troops_in_ukraine", "self_parliament", "self_vote",
        "self_vote_blocked",
    ),
    Role.USA: ("us_type", "us_enablers", "us_response"),
    Role.UKRAINE: ("fortification", "ukraine_defence", "ukraine_demand", "russia_offensive"),
    Role.RUSSIA: ("resolve", "russia_offensive", "probe_detection", "russia_test"),
}  # fmt: skip

_COMMANDS = (
    ("Enter", "play the orders shown in [brackets]"),
    ("pass", "play the no-op (value 0) in every component and clear your orders"),
    ("view", "show every piece of your observation"),
    ("help", "show this help"),
    ("quit", "leave the game"),
)


class MoveError(ValueError):
    """A move line that cannot be played; the message names the problem and what is allowed."""


class GameAbandoned(Exception):
    """The player left the game: ``quit`` (``eof`` is False) or the end of input (True)."""

    def __init__(self, message: str, *, eof: bool) -> None:
        super().__init__(message)
        self.eof = eof


def _normal(word: str) -> str:
    return word.strip().lower().replace("-", "_")


def _pick(word: str, names: Sequence[str], what: str) -> int:
    """Index of ``word`` in ``names``: an exact name or a unique prefix."""
    exact = [i for i, name in enumerate(names) if name == word]
    if exact:
        return exact[0]
    matches = [i for i, name in enumerate(names) if name.startswith(word)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        options = " or ".join(names[i] for i in matches)
        raise MoveError(f"{word!r} is ambiguous: {options}")
    raise MoveError(f"no {what} {word!r}; {what}s: {', '.join(names)}")


def _value(component: str, labels: Sequence[str], raw: str) -> int:
    """Index of a value written as a label (or unique prefix), a share (``10%``) or a number."""
    word = _normal(raw)
    share = re.fullmatch(r"(\d+)%", word)
    if share:
        word = f"pct{share.group(1)}"
        if word not in labels:
            shares = [f"{label[3:]}%" for label in labels if label.startswith("pct")]
            allowed = f"shares: {', '.join(shares)}" if shares else f"values: {', '.join(labels)}"
            raise MoveError(f"{component} has no value {raw!r}; {allowed}")
        return labels.index(word)
    if word.isdigit():
        number = int(word)
        if number >= len(labels):
            hint = (
                f" (for a share of your troops write {number}%)" if f"pct{number}" in labels else ""
            )
            raise MoveError(
                f"{component}={raw} is out of range: {component} takes a number 0-"
                f"{len(labels) - 1} or a name ({', '.join(labels)}){hint}"
            )
        return number
    try:
        return _pick(word, labels, "value")
    except MoveError as err:
        raise MoveError(f"{component}: {err}") from None


def parse_move(
    line: str,
    components: Sequence[tuple[str, Sequence[str]]],
    mask: Sequence[np.ndarray],
) -> dict[int, int]:
    """Read ``component=value ...`` into ``{component index: value}``; raise :class:`MoveError`.

    ``components`` are ``(name, value labels)`` in action order (``env.action_labels(agent)``)
    and ``mask`` the observation's ``action_mask``: a value the mask forbids is refused.
    """
    names = [name for name, _ in components]
    example = _example(components)
    chosen: dict[int, int] = {}
    for token in re.sub(r"\s*=\s*", "=", line.replace(",", " ")).split():
        key, sep, raw = token.partition("=")
        if not sep or not key or not raw:
            raise MoveError(
                f"cannot read {token!r}: write component=value pairs, e.g. {example}; "
                "or a command: pass, view, help, quit"
            )
        index = _pick(_normal(key), names, "component")
        name, labels = components[index]
        if index in chosen:
            raise MoveError(f"{name} is given twice; give each component once")
        value = _value(name, labels, raw)
        if not mask[index][value]:
            legal = ", ".join(labels[v] for v in np.flatnonzero(mask[index]))
            raise MoveError(f"{name}={labels[value]} is not allowed now; {name} may be: {legal}")
        chosen[index] = value
    return chosen


def _wrap(text: str, first: str, rest: str) -> str:
    return textwrap.fill(
        text, _WIDTH, initial_indent=first, subsequent_indent=rest, break_on_hyphens=False
    )


def _example(components: Sequence[tuple[str, Sequence[str]]]) -> str:
    name, labels = components[0]
    second, second_labels = components[-1]
    return f"{name}={labels[-1]} {second}={second_labels[1]}"


class HumanPolicy(Policy):
    """A person plays the seat: reads a move line per turn from ``stdin``, writes to ``stdout``.

    Args:
        role: ``member``, ``usa``, ``ukraine`` or ``russia``.
        stdin, stdout: text streams (default: ``sys.stdin`` and ``sys.stdout`` at the time of use).
        members: the member agent ids in env order, to name the per-member observation pieces.
    """

    name = "human"
    doctrine = "A person at a terminal chooses every action component by name."
    tags = frozenset({"human", "interactive"})

    def __init__(
        self,
        role: str,
        *,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        members: Sequence[str] = (),
    ) -> None:
        Role.named(role)  # an unknown role is an error naming the roles
        super().__init__()
        self.role = role  # one class for every role: the seat's role is chosen per instance
        self._stdin = stdin
        self._stdout = stdout
        self._members = tuple(members)
        self._components: list[tuple[str, tuple[str, ...]]] = []
        self._orders = np.zeros(0, np.int64)
        self._turn = 0

    # -------------------------------------------------------------- Policy

    def bind(self, seat: Seat) -> None:
        """Take a seat; the action components come from the seat's role."""
        super().bind(seat)
        self._components = [(c.name, c.labels) for c in COMPONENTS[seat.role]]
        self.reset()

    def reset(self) -> None:
        """Clear the standing orders and the turn count."""
        self._orders = np.zeros(len(self._components), np.int64)
        self._turn = 0

    def act(self, observation: Mapping[str, Any], rng: np.random.Generator) -> np.ndarray:
        """Show the view and the legal values, read a move until one is valid, return it."""
        mask = observation["action_mask"]
        view = self.view(observation)
        self._turn += 1
        self._write(self._turn_header(view))
        own = _OWN[self.seat.role]
        self._write(self._format_pieces(view, own))
        self._write(self._format_pieces(view, tuple(p for p in _SITUATION if p not in own)))
        self._write(self._options(mask))
        while True:
            line = self._read(f"{self.seat.agent}> ")
            command = line.strip().lower()
            if command in ("help", "?"):
                self._write(self._help())
                continue
            if command == "view":
                self._write(self._full_view(view))
                continue
            if command in ("quit", "exit"):
                raise GameAbandoned(f"{self.seat.agent} left the game", eof=False)
            if command == "pass":
                self._orders[:] = 0
                break
            try:
                changes = parse_move(line, self._components, mask)
            except MoveError as err:
                message = f"! {err} (help shows the syntax and every value)"
                self._write(_wrap(message, "  ", "    "))
                continue
            for index, value in changes.items():
                self._orders[index] = value
            break
        allowed = np.array([bool(m[v]) for m, v in zip(mask, self._orders, strict=True)])
        action = np.where(allowed, self._orders, 0).astype(np.int64)
        self._write(_wrap(f"{self.seat.agent} plays: {self._describe(action)}", "  ", "    "))
        for index, (name, _) in enumerate(self._components):
            if name in _ONE_OFF.get(self.seat.role, ()):
                self._orders[index] = 0
        return action

    # -------------------------------------------------------------- text

    def _turn_header(self, view: ObservationView) -> str:
        played = 100 * view.scalar("time")
        title = f"-- Your move: {self.seat.agent}, turn {self._turn} ({played:.0f}% played) "
        return "\n" + title + "-" * max(0, _WIDTH - len(title))

    def _format_pieces(self, view: ObservationView, names: Sequence[str]) -> str:
        pairs = [f"{name}={self._piece_text(name, view[name])}" for name in names]
        return _wrap("  ".join(pairs), "  ", "  ")

    def _full_view(self, view: ObservationView) -> str:
        """Every piece: the per-member ones as a table, the rest as ``name=value``."""
        per_member = [name for name in view if name.startswith("members_")]
        text = self._format_pieces(view, [name for name in view if name not in per_member])
        columns = [name.removeprefix("members_") for name in per_member]
        rows = ["  " + f"{'members_':<14}" + "".join(f"{c:>13}" for c in columns)]
        for i, member in enumerate(self._member_ids(len(view[per_member[0]]))):
            cells = "".join(f"{float(view[name][i]):>13.2f}" for name in per_member)
            rows.append(f"  {member:<14}{cells}")
        return "\n".join([text, *rows])

    def _member_ids(self, n: int) -> tuple[str, ...]:
        return self._members or tuple(f"m{i + 1}" for i in range(n))

    def _piece_text(self, name: str, piece: np.ndarray) -> str:
        return describe(name, piece, self._member_ids(np.asarray(piece).size))

    def _options(self, mask: Sequence[np.ndarray]) -> str:
        lines = ["  Legal values now ([order] is what Enter plays):"]
        for index, (name, labels) in enumerate(self._components):
            order = int(self._orders[index])
            legal = [v for v in range(len(labels)) if mask[index][v]]
            illegal = [v for v in range(len(labels)) if not mask[index][v]]

            def mark(v: int, labels: tuple[str, ...] = labels, order: int = order) -> str:
                return f"[{labels[v]}]" if v == order else labels[v]

            text = f"    {name:<13}" + " ".join(mark(v) for v in legal)
            if illegal:
                text += "   not now: " + " ".join(mark(v) for v in illegal)
            lines.append(text)
            if not mask[index][order]:
                lines.append(f"    {'':<13}(order {name}={labels[order]} waits; "
                             f"{labels[0]} is played this turn)")  # fmt: skip
        lines.append(f"  e.g. {_example(self._components)}   or: pass, view, help, quit")
        return "\n".join(lines)

    def _describe(self, action: np.ndarray) -> str:
        names = [name for name, _ in self._components]
        pledging = "pledge" in names and bool(action[names.index("pledge")])
        parts = [
            f"{name}={labels[int(v)]}"
            for (name, labels), v in zip(self._components, action, strict=True)
            if (pledging if name in _WITH_PLEDGE else v != 0)
        ]
        return " ".join(parts) if parts else "the no-op in every component"

    def _help(self) -> str:
        lines = [
            "  One line per turn: component=value pairs, e.g. " + _example(self._components) + ".",
            "  Names may be shortened while unique (pl=10% contr=gr); a value may be its number",
            "  in the list (0 = the first). A component you leave out keeps your order from",
            "  the last turn; a pledge change is played once. Commands:",
        ]
        lines += [f"    {word:<7}{what}" for word, what in _COMMANDS]
        lines.append(f"  Your components ({self.seat.role.name.lower()}), every value:")
        gloss = {c.name: c.description for c in COMPONENTS[self.seat.role]}
        for name, labels in self._components:
            lines.append(_wrap(f"{name:<13}{gloss[name]}", "    ", " " * 17))
            values = ", ".join(f"{i} {label}" for i, label in enumerate(labels))
            lines.append(_wrap(values, " " * 17, " " * 17))
        return "\n".join(lines)

    # -------------------------------------------------------------- streams

    def _write(self, text: str) -> None:
        out = self._stdout or sys.stdout
        out.write(text + "\n")
        out.flush()

    def _read(self, prompt: str) -> str:
        stdin, out = self._stdin or sys.stdin, self._stdout or sys.stdout
        out.write(prompt)
        out.flush()
        line = stdin.readline()
        if not line:
            out.write("\n")
            raise GameAbandoned("end of input", eof=True)
        if not stdin.isatty():  # show piped input in the transcript, as a terminal would
            out.write(line if line.endswith("\n") else line + "\n")
        return line.rstrip("\n")
