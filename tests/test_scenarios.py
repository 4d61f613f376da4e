"""Every scenario file loads, its references resolve, and it plays; bad files fail clearly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from reassurance.envs import ScenarioError, list_scenarios, load_scenario
from reassurance.envs.scenario import scenario_path
from tests.conftest import play

ROOT = Path(__file__).resolve().parents[1]


def test_required_scenarios_exist() -> None:
    ids = set(list_scenarios())
    assert {"brussels-2025-04", "paris-2026-01", "us-backstop", "us-absent", "classroom"} <= ids


def test_every_scenario_loads_and_source_tags_resolve(scenario: str) -> None:
    sc = load_scenario(scenario)
    assert sc.id == scenario
    for member in sc.members:
        for field, tag in member.sources.items():
            keys = tag.replace(",", " ").split()
            unknown = [k for k in keys if k not in sc.sources]
            assert not unknown, f"{scenario}: {member.id}.{field} cites unknown sources {unknown}"


def test_every_scenario_plays_to_the_end(scenario: str) -> None:
    env, trace = play(scenario, seed=0)
    summary = trace[-1][3]["usa"]["episode_summary"]
    required = {
        "contributors", "troops_deployed", "threshold_met", "free_riding_index",
        "oz_rank_correlation", "pledge_conversion", "defection_rate", "ceasefire_held",
        "violations_detected", "max_escalation", "mean_escalation", "steps_to_force",
    }  # fmt: skip
    assert required <= set(summary)
    assert all(info["episode_summary"] is summary for info in trace[-1][3].values())
    assert len(trace) == env.scenario.horizon or summary["final_front"] <= 0.3


def test_scenario_contents_follow_the_seeds() -> None:
    brussels = load_scenario("brussels-2025-04")
    assert 18 <= len(brussels.members) <= 30
    assert brussels.initial.us_signal == "silent"
    assert brussels.usa.commitment < 0.5
    paris = load_scenario("paris-2026-01")
    signed = {m.id for m in paris.members if m.declaration_signed}
    assert signed == {"uk", "france"}
    assert not next(m for m in paris.members if m.id == "germany").troops_in_ukraine
    assert paris.initial.us_signal != "silent"
    assert load_scenario("us-backstop").usa.commitment > load_scenario("us-absent").usa.commitment
    classroom = load_scenario("classroom")
    assert [m.id for m in classroom.members] == ["uk", "france", "germany"]
    assert classroom.horizon < brussels.horizon


def _write(tmp_path: Path, data: dict, name: str = "custom.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


def test_unknown_field_is_named_with_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, {"base": "classroom", "id": "x", "horizonn": 12})
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert "horizonn" in str(err.value)
    assert str(path) in str(err.value)


def test_wrong_type_names_field_and_expectation(tmp_path: Path) -> None:
    path = _write(tmp_path, {"base": "classroom", "id": "x", "force": {"eta": "steep"}})
    with pytest.raises(ScenarioError, match=r"force\.eta.*valid number"):
        load_scenario(path)


def test_wrong_base_reference(tmp_path: Path) -> None:
    path = _write(tmp_path, {"base": "brussels-2024", "id": "x"})
    with pytest.raises(ScenarioError, match=r"base.*brussels-2024.*available"):
        load_scenario(path)


def test_base_cycle_is_reported(tmp_path: Path) -> None:
    a = _write(tmp_path, {"base": str(tmp_path / "b.yaml"), "id": "a"}, "a.yaml")
    _write(tmp_path, {"base": str(a), "id": "b"}, "b.yaml")
    with pytest.raises(ScenarioError, match="cycle"):
        load_scenario(a)


def test_unknown_scenario_id_lists_the_known_ones() -> None:
    with pytest.raises(ScenarioError, match="classroom"):
        scenario_path("klassroom")


def test_overrides_from_python() -> None:
    sc = load_scenario(
        "classroom",
        overrides={"usa.commitment": 0.75, "members.germany.troops_in_ukraine": False},
    )
    assert sc.usa.commitment == 0.75
    assert not next(m for m in sc.members if m.id == "germany").troops_in_ukraine
    nested = load_scenario("classroom", overrides={"usa": {"commitment": 0.75}})
    assert nested.usa == sc.usa
    with pytest.raises(ScenarioError, match=r"commitment.*less than or equal to 1"):
        load_scenario("classroom", overrides={"usa.commitment": 1.5})
    with pytest.raises(ScenarioError, match="belgium"):
        load_scenario("classroom", overrides={"members.belgium.leadership": 0.5})
    with pytest.raises(ScenarioError, match="horizonn"):
        load_scenario("classroom", overrides={"horizonn": 3})


def test_scenarios_are_frozen() -> None:
    sc = load_scenario("classroom")
    with pytest.raises(Exception, match="frozen"):
        sc.horizon = 3  # type: ignore[misc]


def test_random_game_script_renders_every_scenario(scenario: str) -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "random_game.py"), scenario, "1"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    assert "== Turn 1/" in out
    assert "Front: Ukraine holds" in out
    assert "uk " in out and "Escalation:" in out
    assert "'free_riding_index'" in out


def test_member_errors_name_the_member() -> None:
    with pytest.raises(ScenarioError, match=r"members\.germany\.leadership"):
        load_scenario("classroom", overrides={"members.germany.leadership": "x"})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"force.pledge_shares": [0, 0.01, 0.05, 0.1, 1.5]}, r"pledge_shares\.4.*less than or"),
        ({"force.pledge_shares": [0, -0.01, 0.05, 0.1, 0.2]}, r"pledge_shares\.1.*greater than"),
        ({"force.pledge_shares": [0, 0.1, 0.05, 0.1, 0.2]}, "must start at 0 and rise strictly"),
        ({"usa.aid": float("inf")}, r"usa\.aid.*finite"),
        ({"rewards.member.security": float("nan")}, r"security.*finite"),
        ({"usa.backstop_credit": [0, 0.3, 0.7, 1.2]}, r"backstop_credit\.3.*less than or equal"),
        ({"test.gains": [-0.01, 0.02, 0.06]}, r"test\.gains\.0.*greater than or equal to 0"),
        ({"horizon": True}, "a boolean is not a number"),
        ({"test.gains": [0.05, 0.02, 0.06]}, "test.gains must be non-decreasing"),
        ({"belief.signal": [[0.5, 0.5, 0, 0], [0.25, 0.25, 0.25, 0.25], [0.25, 0.25, 0.25, 0.25]]},
         "greater than 0"),
    ],
)  # fmt: skip
def test_every_number_is_checked_against_its_range(overrides, message) -> None:
    with pytest.raises(ScenarioError, match=message):
        load_scenario("classroom", overrides=overrides)


def test_a_missing_escalation_score_is_named(tmp_path: Path) -> None:
    raw = yaml.safe_load((ROOT / "configs" / "scenarios" / "brussels-2025-04.yaml").read_text())
    del raw["escalation"]["scores"]["de_escalation"]
    path = _write(tmp_path, raw)
    with pytest.raises(ScenarioError, match=r"escalation.scores lacks \['de_escalation'\]"):
        load_scenario(path)


def test_base_is_read_relative_to_the_file(tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    _write(folder, {"base": "classroom", "id": "b", "horizon": 9}, "b.yaml")
    _write(folder, {"base": "./b.yaml", "id": "a"}, "a.yaml")
    monkeypatch.chdir(tmp_path)  # not the files' folder
    assert load_scenario(folder / "a.yaml").horizon == 9
    assert load_scenario("mine/a.yaml").horizon == 9
