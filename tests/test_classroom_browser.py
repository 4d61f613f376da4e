"""A whole classroom game in real headless Chromium (Debian's ``chromium`` and ``chromium-driver``
through Selenium): a teacher and two students in three browser sessions.

The teacher creates a game; two students join by code; they play three turns, with an illegal
move refused, a turn that times out for one student, a facilitator's pause and injected event,
and a reload that gets a seat back; the game ends, the teacher reveals the hidden types, the
debrief renders with its simulated games, and the replay file plays offline. Screenshots are
saved under ``test-artifacts/classroom-browser/`` (the test prints the folder).

``scripts/setup.sh`` installs Chromium and its driver; without them this test fails with a message
that says so. It never skips.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import httpx
import pytest

from tests.classroom_support import Server

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "classroom-browser"
TURN_SECONDS = 20
WAIT_S = 30.0
SLIDE = (
    "const s = document.getElementById('slider'); s.value = arguments[0] === 'max' ? s.max : "
    "arguments[0]; s.dispatchEvent(new Event('input'));"
)
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1100,1500",
)  # fmt: skip


def _browser(profile: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).exists()]
    if missing:
        pytest.fail(
            f"the browser tests need Debian's chromium and chromium-driver ({', '.join(missing)} "
            "missing): run bash scripts/setup.sh as root, or apt-get install -y chromium "
            "chromium-driver",
            pytrace=False,
        )
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(WAIT_S)
    return driver


def _wait(driver, condition, timeout: float = WAIT_S, what: str = ""):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # The page redraws on every server message: an element read between two redraws is stale,
    # and the condition is simply checked again.
    wait = WebDriverWait(
        driver, timeout, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,)
    )
    return wait.until(condition, message=what)


def _text_in(element_id: str, text: str):
    from selenium.webdriver.common.by import By

    def check(driver):
        found = driver.find_elements(By.ID, element_id)
        return found and text in found[0].text

    return check


def _shot(driver, name: str) -> None:
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


@pytest.fixture
def browsers(tmp_path):
    opened = []

    def open_one(name: str):
        driver = _browser(tmp_path / f"profile-{name}")
        opened.append(driver)
        return driver

    yield open_one
    for driver in opened:
        driver.quit()


def test_a_class_plays_a_whole_game_in_the_browser(tmp_path, browsers) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True)
    print(f"\nscreenshots: {ARTIFACTS}")
    with Server(tmp_path / "class.sqlite", simulations=50) as server:
        teacher, ana, ben = browsers("teacher"), browsers("ana"), browsers("ben")

        # -- the teacher creates a game: three turns, France and Germany for students
        teacher.get(f"{server.base}/teacher/{server.teacher}")
        Select(teacher.find_element(By.ID, "scenario")).select_by_value("classroom")
        teacher.find_element(By.ID, "next").click()
        _wait(teacher, lambda d: d.find_elements(By.ID, "create"), what="new-game form")
        teacher.find_element(By.ID, "title").send_keys("Period 3")
        for field, value in (("horizon", "3"), ("turn_seconds", str(TURN_SECONDS)), ("seed", "7")):
            box = teacher.find_element(By.ID, field)
            box.clear()
            box.send_keys(value)
        teacher.find_element(By.ID, "human_france").click()
        teacher.find_element(By.ID, "human_germany").click()
        Select(teacher.find_element(By.ID, "bot_russia")).select_by_value("russia/hawk")
        teacher.find_element(By.ID, "create").click()
        _wait(teacher, _text_in("turn", "Turn 1 of 3"), what="teacher dashboard")
        code = teacher.find_element(By.ID, "code").text

        # -- two students join by code in their own browsers
        for student, name, seat in ((ana, "Ana", "france"), (ben, "Ben", "germany")):
            student.get(server.base + "/")
            student.find_element(By.ID, "code").send_keys(code.lower())
            student.find_element(By.ID, "find").click()
            _wait(student, lambda d: d.find_elements(By.ID, "name"), what="join page")
            student.find_element(By.ID, "name").send_keys(name)
            student.find_element(By.ID, f"seat-{seat}").click()
            _wait(student, _text_in("status", "Waiting for the teacher"), what=f"{seat} seat page")
        ana_link = ana.current_url
        _wait(teacher, _text_in("seats", "student: Ben"), what="seats filled on the dashboard")
        teacher.find_element(By.ID, "resume").click()
        _wait(ana, lambda d: d.find_element(By.ID, "c-pledge-4").is_enabled(), what="turn 1 open")

        # -- turn 1: an illegal move is shown disabled with its reason, and refused if forced
        deploy = ana.find_element(By.ID, "c-commit-1")
        assert not deploy.is_enabled()
        reason = deploy.find_element(By.XPATH, "../..").find_element(By.CLASS_NAME, "reason").text
        assert reason == "not now: you have pledged nothing to deploy"
        ana.execute_script("arguments[0].disabled = false; arguments[0].click();", deploy)
        ana.find_element(By.ID, "send-move").click()
        _wait(ana, _text_in("move-error", "commit=deploy is not allowed now"), what="refusal")
        _shot(ana, "student_refused_move")
        ana.find_element(By.ID, "c-commit-0").click()
        ana.find_element(By.ID, "c-pledge-4").click()  # 10%
        ana.find_element(By.ID, "c-aid-1").click()
        ana.find_element(By.ID, "send-move").click()
        _wait(ana, _text_in("move-ack", "Your move for turn 1 is in: pledge=pct10 aid=low"))
        _wait(teacher, _text_in("status", "1 student seat(s) still to move"), what="who moved")
        _shot(teacher, "teacher_dashboard")
        ben.find_element(By.ID, "c-aid-2").click()
        ben.find_element(By.ID, "send-move").click()
        _wait(ana, _text_in("turn", "Turn 2 of 3"), what="turn 2 after both moved")
        _wait(ana, _text_in("last-turn", "In turn 1 you played: pledge=pct10"))
        _shot(ana, "student_turn")

        # -- turn 2: the facilitator pauses and injects an event; Ben runs out of time
        teacher.find_element(By.ID, "pause").click()
        _wait(ben, _text_in("status", "Paused by the teacher"), what="students see the pause")
        Select(teacher.find_element(By.ID, "event")).select_by_value("failed_vote")
        teacher.find_element(By.ID, "inject-button").click()
        _wait(ben, _text_in("events", "germany's parliament voted a deployment down"))
        _wait(teacher, _text_in("events", "Failed vote"), what="event on the dashboard")
        _shot(teacher, "teacher_paused_event")
        teacher.find_element(By.ID, "resume").click()
        _wait(ana, lambda d: d.find_element(By.ID, "c-aid-3").is_enabled(), what="resumed")
        ana.find_element(By.ID, "c-aid-3").click()
        ana.find_element(By.ID, "send-move").click()
        _wait(ana, _text_in("move-ack", "Your move for turn 2 is in: aid=high"))
        ana.get(ana_link)  # a reload gets the seat and its move back
        _wait(ana, _text_in("move-ack", "Your move for turn 2 is in: aid=high"), what="seat back")
        _wait(
            ben, _text_in("last-turn", "Time ran out in turn 2; your orders were played"),
            timeout=TURN_SECONDS + WAIT_S, what="Ben's turn timed out",
        )  # fmt: skip
        assert "aid=medium" in ben.find_element(By.ID, "last-turn").text  # his standing order

        # -- turn 3: both send their standing orders; the game ends
        for student in (ana, ben):
            _wait(student, lambda d: d.find_element(By.ID, "send-move").is_enabled())
            student.find_element(By.ID, "send-move").click()
        for student in (ana, ben):
            _wait(student, _text_in("turn", "Game over after 3 turns"), what="game over")
        _wait(teacher, _text_in("turn", "Finished after 3 turns"))
        teacher.find_element(By.ID, "reveal").click()
        _wait(teacher, _text_in("hidden", "Hidden types: the US was"), what="reveal")
        _shot(teacher, "teacher_finished")

        # -- the debrief, with the simulated games once they are played
        ana.find_element(By.ID, "debrief-link").click()
        _wait(ana, _text_in("outcome", "Hidden types: the US was"), what="debrief")
        deadline = time.monotonic() + 120
        while not ana.find_elements(By.CSS_SELECTOR, "[data-metric=troops_deployed] svg"):
            assert time.monotonic() < deadline, "the simulated games did not arrive in 120 s"
            time.sleep(2)
            ana.refresh()
        assert "against 50 simulated games" in ana.find_element(By.ID, "versus").text
        comparisons = ana.find_element(By.ID, "comparisons").text
        assert "france (Ana) against member/conditional-on-us" in comparisons
        assert "germany (Ben) against member/conditional-on-us" in comparisons
        assert "Escalation score by turn" in ana.find_element(By.ID, "timeline").text
        _shot(ana, "debrief")

        # -- the replay file plays offline, with no server
        game = teacher.find_element(By.TAG_NAME, "body").get_attribute("data-game")
        response = httpx.get(f"{server.base}/teacher/{server.teacher}/game/{game}/replay.html")
        replay = tmp_path / "replay.html"
        replay.write_bytes(response.content)
    # the server is gone: the replay needs nothing from it
    ben.get(replay.as_uri())
    _wait(ben, _text_in("frame-label", "start"))
    ben.execute_script(SLIDE, "max")
    _wait(ben, _text_in("frame-label", "turn 3 of 3"), what="replay slider")
    assert "Russia" in ben.find_element(By.ID, "report").text  # the turn report of turn 3
    _shot(ben, "replay")
    ben.execute_script(SLIDE, 2)
    _wait(ben, _text_in("events", "Event: Failed vote"), what="the event in the replay")
