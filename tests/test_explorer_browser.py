"""The explorer's page in a real headless Chromium: clicking through an election, the URL,
back and forward, loading a saved trace, a check from the page.

Needs Playwright for Python (``pip install '.[browser]'``) and a Chromium binary (the Debian
``chromium`` package; ``KAFKACHECK_CHROMIUM`` names another). Without them the tests are
skipped with the reason shown, unless ``KAFKACHECK_REQUIRE_BROWSER=1``: then they fail.
"""

import os
import shutil
import threading

import pytest

from kafkacheck.checker.cli import main
from kafkacheck.checker.explore import Explorer, make_server
from kafkacheck.specs.catalog import MODELS

CHROMIUM = os.environ.get("KAFKACHECK_CHROMIUM") or shutil.which("chromium") or \
    shutil.which("chromium-browser")
try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

_missing = ("Playwright for Python is not installed (pip install '.[browser]')"
            if sync_playwright is None else
            "no Chromium binary (apt-get install chromium, or set KAFKACHECK_CHROMIUM)"
            if CHROMIUM is None else None)
if _missing:
    if os.environ.get("KAFKACHECK_REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"browser tests required, but {_missing}")
    pytest.skip(_missing, allow_module_level=True)

PATH = ["elect_leader(candidate=1, voters={1,2})", "elect_leader(candidate=3, voters={3,4})",
        "leader_new_epoch(server=1)", "leader_new_epoch(server=3)"]


@pytest.fixture(scope="module")
def base():
    system = MODELS["ensemble"].from_settings({"servers": "4", "quorum": "half"}).compile()
    srv = make_server(Explorer(system), 0)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    host, port = srv.server_address[:2]
    yield f"http://{host}:{port}"
    srv.shutdown()
    srv.server_close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    pg = context.new_page()
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    context.close()
    assert not errors, errors


def property_cell(page, name):
    return page.locator("#properties tr", has_text=name).locator("td").nth(2)


def server_state(page, server):
    """The `state` column of one server's row in the per-server table."""
    table = page.locator("#state table").first
    col = table.locator("tr").first.locator("th").all_inner_texts().index("state")
    return table.locator("tr", has=page.locator(f"th:text-is('{server}')")).locator(
        "td").nth(col - 1)


def test_click_through_the_two_elections_and_see_two_leaders(page, base):
    page.goto(base + "/")
    expect(page.locator("#title")).to_have_text("kafkacheck explore ensemble")
    expect(property_cell(page, "one_epoch_leader")).to_have_text("holds")
    for i, label in enumerate(PATH, start=1):
        page.locator("#actions button", has_text=label).click()
        expect(page.locator("#path li")).to_have_count(i + 1)
        expect(page.locator("#path li.current")).to_have_text(label)
    assert "path=" in page.url and len(page.url.split("path=")[1].split(",")) == 4
    expect(server_state(page, "1")).to_have_text("LEADING")
    expect(server_state(page, "3")).to_have_text("LEADING")
    expect(property_cell(page, "one_epoch_leader")).to_have_text("VIOLATED")
    shared = page.url
    # back and forward, with the keyboard
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#path li")).to_have_count(4)
    expect(property_cell(page, "one_epoch_leader")).to_have_text("holds")
    page.keyboard.press("ArrowRight")
    expect(page.locator("#path li")).to_have_count(5)
    assert page.url == shared
    # the URL reopens the same state
    page.goto(shared)
    expect(page.locator("#path li.current")).to_have_text(PATH[-1])
    expect(property_cell(page, "one_epoch_leader")).to_have_text("VIOLATED")


def test_values_the_last_step_changed_are_highlighted(page, base):
    page.goto(base + "/")
    page.locator("#actions button", has_text=PATH[0]).click()
    expect(server_state(page, "1")).to_have_class("changed")
    expect(server_state(page, "3")).not_to_have_class("changed")


def test_load_the_saved_counterexample(page, base, tmp_path, capsys):
    cex = tmp_path / "cex.json"
    assert main(["check", "ensemble", "-p", "servers=4", "-p", "quorum=half",
                 "--trace-out", str(cex)]) == 1
    capsys.readouterr()
    page.goto(base + "/")
    page.set_input_files("#tracefile", str(cex))
    expect(page.locator("#path li")).to_have_count(5)
    assert [x.strip() for x in page.locator("#path li").all_inner_texts()] == ["init", *PATH]
    expect(property_cell(page, "one_epoch_leader")).to_have_text("VIOLATED")
    page.keyboard.press("ArrowLeft")          # step back through it
    expect(page.locator("#path li.current")).to_have_text(PATH[-2])


def test_check_from_the_page_jumps_to_the_counterexample(page, base):
    page.goto(base + "/")
    page.locator("#check").click()
    expect(page.locator("#checkresult")).to_have_text(
        "one_epoch_leader is violated after 4 steps (the shortest trace)")
    expect(page.locator("#path li")).to_have_count(5)
    page.select_option("#checkprop", "leader_elected")
    page.locator("#check").click()
    expect(page.locator("#checkresult")).to_have_text("example of leader_elected in 3 steps")
    expect(property_cell(page, "leader_elected")).to_have_text("holds")


def test_a_bad_path_in_the_url_shows_one_line_and_the_page_still_works(page, base):
    page.goto(base + "/?init=0&path=0,999")
    expect(page.locator("#error")).to_contain_text("step 2 takes successor 999")
    page.goto(base + "/?init=0&path=x")
    expect(page.locator("#error")).to_contain_text("not a list of successor indices")
    expect(page.locator("#path li")).to_have_count(1)


def test_actions_are_listed_by_lane_and_keys_take_them_in_that_order(page, base):
    page.goto(base + "/")
    expect(page.locator("#actions .lane").first).to_have_text("server 1")
    lanes = page.locator("#actions .lane").all_inner_texts()
    assert lanes == ["server 1", "server 2", "server 3", "server 4"]   # each lane once
    first = page.locator("#actions button").first.inner_text().lstrip("0123456789").strip()
    assert first == "crash(server=1)"
    page.keyboard.press("1")
    expect(page.locator("#path li.current")).to_have_text(first)
