"""The docs' tables list every vendor value each connector knows: a value added to a
mapping without its line in docs/ fails here."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.entra import methods_policy, parse, policies
from connectors.google_workspace import parse as google
from connectors.okta import assurance
from connectors.okta import parse as okta

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _doc(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("doc", "values"),
    [
        ("entra.md", list(parse.REGISTERED_METHODS)),
        ("entra.md", list(parse.METHOD_TYPES)),
        ("entra.md", sorted(policies.STRENGTH_FACTORS)),
        ("entra.md", list(methods_policy.CONFIGURATION_KINDS)),
        ("google-workspace.md", sorted(google.SECOND_FACTOR_CHALLENGES | google.NOT_SECOND_FACTOR_CHALLENGES)),
        ("okta.md", list(okta.FACTOR_KINDS)),
        ("okta.md", list(assurance.CONSTRAINT_METHODS)),
        ("okta.md", list(assurance.CONSTRAINT_TYPES)),
        ("okta.md", list(assurance.STEP_METHODS)),
    ],
    ids=["entra-registered", "entra-types", "entra-modes", "entra-configs", "google-challenges", "okta-factors",
         "okta-constraint-methods", "okta-constraint-types", "okta-chain-methods"],
)  # fmt: skip
def test_every_known_value_is_in_the_docs(doc: str, values: list[str]) -> None:
    text = _doc(doc)
    missing = [v for v in values if f"`{v}`" not in text]
    assert missing == []


def test_okta_statuses_are_in_the_docs() -> None:
    text = _doc("okta.md")
    for status in sorted(okta.KNOWN_STATUSES | set(okta.FACTOR_STATUS) | okta.NOT_ENROLLED_STATUSES):
        assert status in text, status
