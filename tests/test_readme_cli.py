"""The README's quick start and command list agree with the real CLI (as pip-audit checks
its README against ``--help``): a command or flag the README shows must exist, and every
command the CLI offers must be in the README."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from click.testing import CliRunner

from auditor.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _help(*args: str) -> str:
    res = CliRunner(env={"COLUMNS": "200"}).invoke(main, [*args, "--help"])
    assert res.exit_code == 0, res.output
    return res.stdout


def _command_lines() -> list[list[str]]:
    blocks = re.findall(r"```sh\n(.*?)```", README, flags=re.S)
    lines = []
    for block in blocks:
        for line in block.splitlines():
            code = line.split("#", 1)[0].strip()
            if code.startswith("mfa-audit "):
                lines.append(shlex.split(code))
    return lines


def _commands() -> set[str]:
    listing = _help().split("Commands:", 1)[1]
    return {line.split()[0] for line in listing.splitlines() if line.strip()}


def test_quick_start_is_two_make_targets_that_exist() -> None:
    quick = README.split("## Quick start", 1)[1].split("##", 1)[0]
    assert "make demo" in quick and "make test" in quick
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^demo:", makefile, flags=re.M) and re.search(r"^test:", makefile, flags=re.M)


def test_every_readme_command_and_flag_exists() -> None:
    commands = _commands()
    lines = _command_lines()
    assert lines
    for words in lines:
        command = words[1]
        assert command in commands, f"README shows `mfa-audit {command}`, which the CLI does not have"
        text = _help(command)
        for flag in (w.split("=", 1)[0] for w in words[2:] if w.startswith("-")):
            assert re.search(rf"(^|[\s,]){re.escape(flag)}([\s,/=]|$)", text, flags=re.M), (
                f"README shows `{flag}` for `mfa-audit {command}`, which its --help does not list"
            )


def test_every_cli_command_is_in_the_readme() -> None:
    shown = {words[1] for words in _command_lines()}
    assert _commands() <= shown, f"missing from the README: {sorted(_commands() - shown)}"
