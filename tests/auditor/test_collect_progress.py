"""Collection progress away from a terminal (cron, CI): a line per source at most every
``interval`` seconds, waits announced when they start, a closing line per source; and
nothing with --quiet."""

from __future__ import annotations

import io

from rich.console import Console

from auditor.collect_progress import ProgressBoard


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_plain_lines_are_paced_and_say_read_total_requests_and_waits() -> None:
    lines: list[str] = []
    clock = Clock()
    board = ProgressBoard(Console(file=io.StringIO()), live=False, interval=10, emit=lines.append, clock=clock)
    okta = board.source("okta")
    okta.total("users", 180_000)
    for _ in range(5):
        okta.read("users", 200)
        okta.request()
    assert lines == ["collecting okta"]  # nothing before the interval has passed
    clock.now = 10.5
    okta.read("users", 200)
    assert lines[-1] == "okta: users 1,200/180,000, 5 requests"
    okta.waiting(8, "rate limit")
    assert lines[-1] == "okta: waiting 8 s, rate limit"
    board.finished(okta, "348 accounts, complete")
    assert lines[-1].startswith("  okta: 348 accounts, complete (users 1,200/180,000, 5 requests, waited 8 s")


def test_quiet_board_prints_nothing() -> None:
    lines: list[str] = []
    board = ProgressBoard(Console(file=io.StringIO()), live=False, quiet=True, interval=0, emit=lines.append)
    src = board.source("entra")
    src.read("users", 5)
    src.waiting(3, "retry")
    board.finished(src, "done")
    assert lines == []


def test_hostile_reason_is_neutralised() -> None:
    lines: list[str] = []
    board = ProgressBoard(Console(file=io.StringIO()), live=False, interval=0, emit=lines.append)
    src = board.source("okta")
    src.waiting(1, "\x1b[2Jrate\u202elimit")
    assert "\x1b" not in lines[-1] and "\u202e" not in lines[-1]


def test_live_board_renders_bars_on_a_terminal() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    board = ProgressBoard(console, live=True, interval=0)
    with board.running():
        src = board.source("google")
        src.total("users", 10)
        src.read("users", 10)
        board.finished(src, "10 accounts, complete")
    assert "google" in out.getvalue() and "10/10" in out.getvalue()
