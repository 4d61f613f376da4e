"""The shipped YAML files (package data) and the one loader that reads every config.

Three kinds ship here: ``scenarios/``, ``training/`` and ``tournaments/``. A command takes either
a shipped name (``classroom``) or a path to a YAML file; :func:`read_config` is the one place that
tells the two apart, follows ``base:`` chains, applies overrides, and :func:`validate` turns the
result into a typed object with one error format::

    raw, origin = read_config("scenarios", "classroom", overrides={"usa.commitment": 0.5})
    scenario = validate(Scenario, raw, origin, "scenario")

Rules of the loader:

- ``base: NAME`` names the file a config starts from: a shipped name of the same kind, or a path,
  read relative to the folder of the file that names it. Chains may be any length; a cycle is an
  error that shows the chain.
- The file's own keys override the base's: mappings merge key by key, everything else (lists,
  numbers, strings) replaces. Two exceptions, named by the caller: ``by_id`` keys hold lists of
  mappings with an ``id`` that an override may give as a mapping from id to fields
  (``members: {germany: {troops_in_ukraine: true}}``), and ``replace`` keys are replaced whole.
- ``overrides`` use the same merge; their keys may be dotted (``"usa.commitment"``).
- Errors are :class:`ConfigError` (a ``ValueError``) and name the file, the field, the value and
  what was expected; list positions of items with an ``id`` are shown by that id.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

__all__ = [
    "ConfigError",
    "format_errors",
    "is_path",
    "merge",
    "read_config",
    "resolve",
    "shipped",
    "shipped_file",
    "validate",
]

KINDS = ("scenarios", "training", "tournaments")
_WHAT = {"scenarios": "scenario", "training": "training config", "tournaments": "tournament config"}

Model = TypeVar("Model", bound=BaseModel)


class ConfigError(ValueError):
    """A config file or override is wrong; the message names the file, the field and why."""


def is_path(text: str) -> bool:
    """Whether ``text`` names a file (``.yaml``/``.yml`` or with a folder) rather than a name."""
    return text.endswith((".yaml", ".yml")) or "/" in text or "\\" in text


def shipped_file(kind: str, name: str) -> Path:
    """Where the shipped ``kind`` (``scenarios``, ``training``, ``tournaments``) ``name`` lives."""
    if kind not in KINDS:
        raise ValueError(f"unknown config kind {kind!r}; kinds: {', '.join(KINDS)}")
    return Path(str(resources.files("reassurance.configs") / kind)) / f"{name}.yaml"


def shipped(kind: str) -> list[str]:
    """Names of the shipped files of ``kind``, sorted."""
    return sorted(p.stem for p in shipped_file(kind, "x").parent.glob("*.yaml"))


def resolve(kind: str, ref: str | Path, *, relative_to: Path | None = None) -> Path:
    """The file a shipped name or a path stands for.

    A relative path is read from ``relative_to`` when given (a ``base:`` inside a file), else
    from the working folder. Raises :class:`ConfigError` naming what exists.
    """
    text = str(ref)
    singular = _WHAT.get(kind, kind)
    if is_path(text):
        path = Path(text)
        if relative_to is not None and not path.is_absolute():
            path = relative_to / path
        if not path.is_file():
            raise ConfigError(f"{singular} file {path} does not exist")
        return path
    path = shipped_file(kind, text)
    if not path.is_file():
        raise ConfigError(
            f"unknown {singular} {text!r}; available: {', '.join(shipped(kind))} "
            "(or give a path to a YAML file)"
        )
    return path


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot be read: {err}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top, got {type(data).__name__}")
    return data


def merge(
    base: Any,
    override: Any,
    *,
    by_id: Collection[str] = (),
    replace: Collection[str] = (),
    where: str = "",
) -> Any:
    """Deep-merge ``override`` into ``base`` (see the module docs); neither is changed."""
    key = where.rsplit(".", 1)[-1]
    if key in by_id and isinstance(override, Mapping) and isinstance(base, list):
        index = {m.get("id"): i for i, m in enumerate(base) if isinstance(m, Mapping)}
        merged = [copy.deepcopy(m) for m in base]
        for item_id, fields in override.items():
            if item_id not in index:
                raise ConfigError(f"{where}.{item_id}: no item with that id; ids: {sorted(index)}")
            if not isinstance(fields, Mapping):
                raise ConfigError(f"{where}.{item_id}: expected a mapping of fields")
            merged[index[item_id]] = merge(
                merged[index[item_id]], fields, by_id=by_id, replace=replace, where=where
            )
        return merged
    if key not in replace and isinstance(base, Mapping) and isinstance(override, Mapping):
        out = dict(base)
        for name, value in override.items():
            child = f"{where}.{name}" if where else str(name)
            out[name] = (
                merge(base[name], value, by_id=by_id, replace=replace, where=child)
                if name in base
                else copy.deepcopy(value)
            )
        return out
    return copy.deepcopy(override)


def expand_dotted(overrides: Mapping[Any, Any]) -> dict[str, Any]:
    """``{"a.b": 1}`` -> ``{"a": {"b": 1}}``, so overrides merge like a file."""
    nested: dict[str, Any] = {}
    for key, value in overrides.items():
        if not isinstance(key, str) or not key or any(not part for part in key.split(".")):
            raise ConfigError(f"override keys must be non-empty dotted names, got {key!r}")
        *parents, last = key.split(".")
        node = nested
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override {key!r} conflicts with another override")
        if last in node and isinstance(node[last], dict) != isinstance(value, Mapping):
            raise ConfigError(f"override {key!r} conflicts with another override")
        node[last] = expand_dotted(value) if isinstance(value, Mapping) else value
    return nested


def _chain(
    kind: str, path: Path, seen: tuple[Path, ...], by_id: Collection[str], replace: Collection[str]
) -> dict[str, Any]:
    """A file with its ``base:`` chain merged in (the file's own keys win)."""
    resolved = path.resolve()
    if resolved in seen:
        chain = " -> ".join(str(p) for p in (*seen, resolved))
        raise ConfigError(f"{path}: 'base' files form a cycle: {chain}")
    data = _read_yaml(path)
    base_ref = data.get("base")
    if base_ref is None:
        return data
    if not isinstance(base_ref, str):
        raise ConfigError(f"{path}: field 'base' names a file or a shipped name, got {base_ref!r}")
    try:
        base_path = resolve(kind, base_ref, relative_to=path.parent)
    except ConfigError as err:
        raise ConfigError(f"{path}: field 'base': {err}") from None
    base = _chain(kind, base_path, (*seen, resolved), by_id, replace)
    own = {k: v for k, v in data.items() if k != "base"}
    merged = merge(base, own, by_id=by_id, replace=replace)
    merged["base"] = base_ref
    return merged


def read_config(
    kind: str,
    ref: str | Path | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
    raw: Mapping[str, Any] | None = None,
    origin: str | None = None,
    by_id: Collection[str] = (),
    replace: Collection[str] = (),
) -> tuple[dict[str, Any], str]:
    """Read a config of ``kind`` and apply ``overrides``; return the raw mapping and its origin.

    ``ref`` is a shipped name or a path; ``raw`` instead gives an already parsed mapping (its
    ``base:`` is then read from the working folder). ``origin`` names it in errors.
    """
    if raw is not None:
        data = dict(raw)
        where = origin or _WHAT.get(kind, kind)
        if "base" in data:
            base = _chain(kind, resolve(kind, data["base"]), (), by_id, replace)
            data = {**merge(base, {k: v for k, v in data.items() if k != "base"},
                             by_id=by_id, replace=replace), "base": data["base"]}  # fmt: skip
    else:
        if ref is None:
            raise ConfigError(f"no {_WHAT.get(kind, kind)} given")
        path = resolve(kind, ref)
        where = origin or str(path)
        data = _chain(kind, path, (), by_id, replace)
    if overrides:
        where += " with overrides " + ", ".join(sorted(map(str, overrides)))
        data = merge(data, expand_dotted(overrides), by_id=by_id, replace=replace)
    return data, where


def format_errors(err: ValidationError, raw: Mapping[str, Any]) -> str:
    """One line per problem: ``field 'a.b': message (got value)``; list items with an ``id``
    are named by it (``members.germany.leadership``)."""
    lines = []
    for e in err.errors():
        loc: list[Any] = []
        node: Any = raw
        for part in e["loc"]:
            shown = part
            if isinstance(part, int) and isinstance(node, list) and part < len(node):
                item = node[part]
                if isinstance(item, Mapping) and "id" in item:
                    shown = item["id"]
                node = item
            elif isinstance(node, Mapping):
                node = node.get(part)
            else:
                node = None
            loc.append(str(shown))
        field = ".".join(loc) or "(top level)"
        message = e["msg"].removeprefix("Value error, ")
        if "input" in e and not isinstance(e["input"], dict | list):
            message += f" (got {e['input']!r})"
        lines.append(f"  field '{field}': {message}")
    return "\n".join(lines)


def validate(model: type[Model], raw: Mapping[str, Any], origin: str, what: str) -> Model:
    """``model`` validated from ``raw``; a :class:`ConfigError` names ``origin`` and each field."""
    try:
        return model.model_validate(dict(raw))
    except ValidationError as err:
        raise ConfigError(f"{origin}: invalid {what}:\n{format_errors(err, raw)}") from None
