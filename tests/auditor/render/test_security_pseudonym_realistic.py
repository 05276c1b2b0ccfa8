"""The pseudonymised edition on realistic data: people named in every free-text field an
organisation writes (policy and rule names, exception reasons and approvers, the
contact, identity links, excluded accounts, comments of the config) and in the data a
source returns (an unreadable record quoting a name, an issue quoting a policy). No
byte of any output, attachment or PDF stream may hold one of them."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from auditor.config.load import parse_config
from auditor.engine.evaluate import evaluate
from auditor.interfaces import ReportContext
from auditor.model import (
    AccountKind,
    Policy,
    PolicyId,
    PolicyRule,
    PolicyState,
    PortalScope,
    Requirement,
    Scope,
    Snapshot,
    SourceIssue,
    UnreadableRecord,
)
from tests.auditor.render.test_pseudonym import KEY_VAR, _outputs
from tests.support.reports import CONFIG_TEXT, NOW

# Who must not appear: people who are accounts and people who are not.
PEOPLE = ("Carol Petit", "Jean-Marc Lefèvre", "Inès Fontaine")
ADDRESSES = (
    "carol.petit@mutuelle-exemple.fr",
    "jean-marc.lefevre@mutuelle-exemple.fr",
    "ines.fontaine@cabinet.example",
)


def realistic(snapshot: Snapshot) -> tuple[Snapshot, str]:
    entra = snapshot.sources[0]
    humans = [a for a in entra.accounts if a.enabled and a.kind is AccountKind.HUMAN]
    victim, other = humans[0], humans[1]
    policy = Policy(
        PolicyId("ca-0042"),
        "MFA except Carol Petit",
        PolicyState.ENFORCED,
        (
            PolicyRule(
                "ca-0042",
                "Everyone but Carol Petit (carol.petit@mutuelle-exemple.fr), asked by Jean-Marc Lefèvre",
                Scope(include_all=True, exclude_users=(victim.id,)),
                PortalScope(all=True),
                Requirement.MFA,
            ),
        ),
        "conditional_access",
    )
    entra = replace(
        entra,
        policies=(*entra.policies, policy),
        unreadable=(
            *entra.unreadable,
            UnreadableRecord("ines.fontaine@cabinet.example", "orgUnitPath: expected a path, got 'Inès Fontaine'"),
        ),
        issues=(
            *entra.issues,
            SourceIssue("ca_state", "policy 'MFA except Carol Petit' has state 'disabled'; counted as disabled"),
        ),
    )
    doc = yaml.safe_load(CONFIG_TEXT)
    doc["organisation"]["contact"] = "carol.petit@mutuelle-exemple.fr"
    doc["identity"] = {"links": [{"principal": victim.principal, "same_as": other.principal}]}
    doc["policy"]["excluded_accounts"] = ["jean-marc.lefevre@mutuelle-exemple.fr"]
    doc["exceptions"].append(
        {
            "id": "EXC-0042",
            "account": victim.principal,
            "portals": ["app-claims"],
            "reason": "Carol Petit shares the claims terminal with Inès Fontaine until the keys arrive",
            "approved_by": "Jean-Marc Lefèvre <jean-marc.lefevre@mutuelle-exemple.fr>",
            "expires": "2027-03-31",
        }
    )
    text = "# Reviewed by Carol Petit (RSSI) with Jean-Marc Lefèvre\n" + yaml.safe_dump(
        doc, sort_keys=False, allow_unicode=True
    )
    return replace(snapshot, sources=(entra, *snapshot.sources[1:])), text


@pytest.fixture(scope="module")
def realistic_context(snapshot: Snapshot) -> ReportContext:
    from tests.support.reports import make_context

    snap, text = realistic(snapshot)
    config = parse_config(text, Path("config.yaml"), now=NOW)
    result = evaluate(snap, config.evaluation, now=NOW, run_id="2026-Q4-20261115T090000Z-real")
    ctx = make_context(snap, pseudonymise=True, result=result)
    return replace(ctx, contact=config.contact, config_text=text)


def test_the_realistic_data_is_really_there_without_pseudonymisation(
    realistic_context: ReportContext, tmp_path: Path
) -> None:
    """The control: the same outputs, not pseudonymised, hold every planted person."""
    plain = replace(realistic_context, options=replace(realistic_context.options, pseudonymise=False))
    outputs = _outputs(plain, tmp_path)
    csv_and_json = (outputs["coverage.csv"] + outputs["json"]).decode("utf-8")
    assert "MFA except Carol Petit" in csv_and_json  # a coverage reason names the policy
    assert "Inès Fontaine" in outputs["json"].decode("utf-8")  # the reconciliation's unreadable reason
    blob = b"\n".join(outputs.values()).decode("utf-8", errors="replace")
    for needle in (*PEOPLE, *ADDRESSES):
        assert needle in blob, needle


def test_no_person_survives_in_any_output(
    realistic_context: ReportContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_VAR, "a-test-key-that-is-long-enough")
    outputs = _outputs(realistic_context, tmp_path)
    for where, data in outputs.items():
        text = data.decode("utf-8", errors="replace")
        folded = text.casefold()
        for needle in (*PEOPLE, *ADDRESSES, "Carol", "Lefèvre", "Inès"):
            assert needle.casefold() not in folded, f"{needle!r} in {where}"
    blob = b"\n".join(outputs.values()).decode("utf-8", errors="replace")
    # What the edition says instead: tokens, the same everywhere, and the withheld fields.
    assert re.search(r"policy-[0-9a-f]{12}", blob) and re.search(r"approver-[0-9a-f]{12}", blob)
    assert "withheld in the pseudonymised edition" in blob
    assert "Mutuelle Exemple" in blob and "MFA-001" in blob


def test_the_attached_config_still_reads_and_agrees(
    realistic_context: ReportContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    from auditor.render import pseudonym

    monkeypatch.setenv(KEY_VAR, "k")
    done = pseudonym.prepare(realistic_context)
    config = parse_config(done.config_text, Path("config.yaml"), now=NOW)
    principals = {a.principal for s in done.snapshot.sources for a in s.accounts}
    exc = next(e for e in config.evaluation.exceptions if e.id == "EXC-0042")
    assert exc.account in principals  # the register still points at the (tokenised) account
    assert config.contact == done.contact and "@mutuelle-exemple.fr" in config.contact


@pytest.mark.parametrize("policy_name", ["MFA except Carol Petit", "Carol Petit"])
def test_tokens_for_a_policy_name_agree_across_fields(policy_name: str) -> None:
    from auditor.render.pseudonym import Pseudonymiser

    p = Pseudonymiser(b"k")
    token = p.label("policy", policy_name)
    assert p.text(f"enforced by '{policy_name}' (ca-1)") == f"enforced by '{token}' (ca-1)"
    assert p.text(f"{policy_name}s and more") == f"{policy_name}s and more"  # whole words only


_NAME = st.text(alphabet=st.characters(categories=("L",)), min_size=3, max_size=12)


@given(first=_NAME, last=_NAME, host=st.from_regex(r"[a-z]{3,10}\.(fr|example|org)", fullmatch=True))
def test_people_never_survive_in_replaced_fields(first: str, last: str, host: str) -> None:
    """Whatever the person: a policy name, an approver, an exception reason, an address
    quoted anywhere, or a value quoted in a parse error, never comes out in clear."""
    from auditor.render.pseudonym import Pseudonymiser

    person = f"{first} {last}"
    address = f"{first.lower()}.{last.lower()}@{host}"
    p = Pseudonymiser(b"k")
    policy = p.label("policy", f"MFA except {person}")
    approver = p.label("approver", f"{person} <{address}>")
    p.phrase(f"{person} shares a terminal", "(withheld)")
    texts = [
        p.text(f"enforced by 'MFA except {person}' (ca-1); excepted ({person} shares a terminal)"),
        p.text(f"approved by {person} <{address}> on request of {address.upper()}"),
        p.record_reason(f"orgUnitPath: expected a path, got '{person}'"),
        policy,
        approver,
    ]
    for text in texts:
        assert person not in text
        assert address.casefold() not in text.casefold()
