"""Rule texts in one place (#13): a finding's sentence lives in report_templates/i18n/
rules.<lang>.json only; the engine says it in English from the finding's params, and
says it exactly as it did before (earlier reports print the digest of a findings CSV that
holds the messages, and `mfa-audit verify` renders them again)."""

from __future__ import annotations

import ast
import json
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from auditor.config.schema import EvaluationConfig
from auditor.engine.evaluate import evaluate
from auditor.engine.rules import RULES
from auditor.engine.rules.messages import MessageTextError, english_message, message_texts, placeholders
from auditor.model import Snapshot
from auditor.render.i18n import Translator
from tests.support.finding_snapshots import NOW, configs, snapshots

ROOT = Path(__file__).resolve().parents[2]
RULE_MODULES = sorted((ROOT / "auditor" / "engine" / "rules").glob("*.py"))
ENGINE_MODULES = sorted((ROOT / "auditor" / "engine").rglob("*.py"))
# Shorter pieces ("excluded from") are common words of the coverage reasons too.
FRAGMENT_CHARS = 16
# Every distinct (message id, params, message) the engine wrote before the sentences moved
# out of the rules (recorded with main's engine, 65a650b): the demo's sample organisation
# (300 accounts, complete and not; seeds 1-3 at 600 accounts, two quarters each), the edge
# scenarios of test_finding_messages and 2 x 1,000 hypothesis-drawn snapshots.
GOLDEN = Path(__file__).parent / "data" / "finding_messages_2026.12.1.jsonl"
DECLARED = {f"{r.id}.{name}" for r in RULES for name in r.messages}


# --- no sentence in the rule modules --------------------------------------------------------


def _pieces(text: str) -> set[str]:
    """The literal pieces of a sentence long enough to be recognised anywhere
    (", which would cover this portal")."""
    pieces = (literal.strip() for literal, _, _, _ in string.Formatter().parse(text))
    return {p for p in pieces if len(p) >= FRAGMENT_CHARS}


def _fragments() -> set[str]:
    return set().union(*(_pieces(text) for text in message_texts("en").values()))


# A rule's own texts (and docstrings) may share words with a finding's sentence.
_RULE_TEXTS = ("title", "rationale", "remediation")


def _prose(tree: ast.AST) -> set[int]:
    """The ids of the docstrings and of the rule texts given to ``Rule(...)``."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
        elif isinstance(node, ast.keyword) and node.arg in _RULE_TEXTS:
            out |= {id(n) for n in ast.walk(node.value)}
    return out


def sentence_violations(paths: list[Path], fragments: set[str]) -> list[str]:
    """Where a rule module writes a message itself: a ``message=`` given anything but
    ``english_message(...)``, a ``Finding(...)`` built outside ``base.py``, or a string
    (an f-string's pieces included) holding a piece of a sentence of rules.en.json,
    docstrings and the rules' title, rationale and remediation aside."""
    found = []
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        prose = _prose(tree)
        for node in ast.walk(tree):
            where = f"{path.name}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
                if name == "Finding" and path.name != "base.py":
                    found.append(f"{where}: builds a Finding itself")
                for kw in node.keywords:
                    if kw.arg != "message":
                        continue
                    value = kw.value
                    template_call = (
                        isinstance(value, ast.Call)
                        and isinstance(value.func, ast.Name)
                        and value.func.id == "english_message"
                    )
                    if not template_call:
                        found.append(f"{where}: message= is not english_message(...)")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in prose:
                hits = [f for f in fragments if f in node.value]
                if hits:
                    found.append(f"{where}: writes a sentence of rules.en.json: {sorted(hits)[0]!r}")
    return found


def test_no_engine_module_writes_a_message() -> None:
    assert len(ENGINE_MODULES) > len(RULE_MODULES) > 5
    assert sentence_violations(ENGINE_MODULES, _fragments()) == []


def test_every_sentence_can_be_recognised_by_the_scan() -> None:
    assert [key for key, text in message_texts("en").items() if not _pieces(text)] == []


@pytest.mark.parametrize(
    "source",
    [
        'rule.finding(source=s, message=f"source {s} was not read in full: coverage of its accounts is unknown")\n',
        'rule.finding(source=s, message=text, key="incomplete")\n',
        'yield rule.row_finding(ctx, row, f"excluded from {names}, which would cover this portal", key)\n',
        "MESSAGE = 'a second factor is enrolled but no enforced policy requires it here'\n",
        'Finding(rule_id="MFA-001", message=english_message("MFA-001.not_enrolled"))\n',
    ],
)
def test_the_scan_finds_a_message_written_in_a_rule_module(tmp_path: Path, source: str) -> None:
    module = tmp_path / "catalogue.py"
    module.write_text(source, encoding="utf-8")
    assert sentence_violations([module], _fragments()), source


def test_the_scan_lets_the_template_call_through(tmp_path: Path) -> None:
    module = tmp_path / "base.py"
    module.write_text('Finding(message=english_message(key, params), title="Not enrolled")\n', encoding="utf-8")
    assert sentence_violations([module], _fragments()) == []


# --- every id has its sentences ---------------------------------------------------------------


def _bindings(node: ast.AST) -> list[tuple[str, ast.AST]]:
    """(name, value) a node gives: ``key="…"``, ``key = …``, ``key, params = "…", ()``."""
    if isinstance(node, ast.keyword) and node.arg is not None:
        return [(node.arg, node.value)]
    if not isinstance(node, ast.Assign):
        return []
    out: list[tuple[str, ast.AST]] = []
    for target in node.targets:
        if isinstance(target, ast.Name):
            out.append((target.id, node.value))
        elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
            out += [(t.id, v) for t, v in zip(target.elts, node.value.elts, strict=False) if isinstance(t, ast.Name)]
    return out


def _keys_used_in_rule_modules() -> set[str]:
    """The message names the rule modules pass as ``key`` (the strings of its value)."""
    out: set[str] = set()
    for path in RULE_MODULES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            for name, value in _bindings(node):
                if name == "key":
                    out |= {
                        n.value for n in ast.walk(value) if isinstance(n, ast.Constant) and isinstance(n.value, str)
                    }
    return out


def test_every_message_a_rule_module_names_is_declared_by_a_rule() -> None:
    used = _keys_used_in_rule_modules()
    names = {name for r in RULES for name in r.messages}
    assert used, "the scan found no key: it no longer reads the rule modules"
    assert used <= names, sorted(used - names)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_declared_message_has_its_sentence_and_no_sentence_is_orphaned(language: str) -> None:
    texts = message_texts(language)
    assert sorted(DECLARED - texts.keys()) == []
    assert sorted(texts.keys() - DECLARED) == []


def test_english_sentences_are_plain_names_only() -> None:
    """The English sentence is the one the digest covers, written as is: plain ``{name}``
    fields only (a translation may format a value for its reader, ``{count:number}``)."""
    en = message_texts("en")
    for key in DECLARED:
        for _, name, spec, conversion in string.Formatter().parse(en[key]):
            assert name is None or (name.isidentifier() and not spec and not conversion), key


# --- the engine says every message as before ---------------------------------------------------


def _golden() -> list[tuple[str, tuple[tuple[str, str], ...], str]]:
    rows = []
    for line in GOLDEN.read_text(encoding="utf-8").splitlines():
        key, params, message = json.loads(line)
        rows.append((key, tuple((k, v) for k, v in params), message))
    return rows


def test_every_message_written_before_is_written_again_byte_for_byte() -> None:
    rows = _golden()
    assert {key for key, _, _ in rows} == DECLARED  # the recorded messages reach every id
    assert any("{" in v for _, params, _ in rows for _, v in params)  # hostile values among them
    for key, params, message in rows:
        # A changed English sentence breaks `mfa-audit verify` of every report that says it.
        assert english_message(key, params) == message, key


def test_a_value_with_braces_is_inserted_as_it_is() -> None:
    said = english_message("MFA-010.incomplete", (("source", "{x.__class__}{0}"),))
    assert said == "source {x.__class__}{0} was not read in full: coverage of its accounts is unknown"


@pytest.mark.parametrize(
    ("key", "params", "error"),
    [
        ("MFA-001.not_declared", (), "missing from report_templates/i18n/rules.en.json"),
        ("MFA-010.incomplete", (), "no value given for source"),
        ("MFA-009.expired", (("exception", "EXC-1"),), "no value given for expires"),
    ],
)
def test_a_rule_cannot_say_a_sentence_that_is_not_there_or_leave_a_value_out(
    key: str, params: tuple[tuple[str, str], ...], error: str
) -> None:
    with pytest.raises(MessageTextError, match=error):
        english_message(key, params)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(snapshot=snapshots(), config=configs())
def test_every_finding_gives_every_value_its_sentences_name(snapshot: Snapshot, config: EvaluationConfig) -> None:
    en, fr = message_texts("en"), message_texts("fr")
    french = Translator("fr")
    for f in evaluate(snapshot, config, now=NOW, run_id="t").findings:
        given_names = {name for name, _ in f.message_params}
        assert f.message_key in DECLARED, f.message_key
        assert placeholders(en[f.message_key]) <= given_names, f.message_key
        assert placeholders(fr[f.message_key]) <= given_names, f.message_key
        assert english_message(f.message_key, f.message_params) == f.message
        assert french.message(f.message_key, f.message_params) is not None, f.message_key
