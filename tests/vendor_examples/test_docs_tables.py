"""The docs' tables list every vendor value each connector knows: a value added to a
mapping without its line in docs/ fails here."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.auth0 import enforcement as auth0_enforcement
from connectors.auth0 import parse as auth0
from connectors.cognito import parse as cognito
from connectors.cognito import policies as cognito_policies
from connectors.entra import methods_policy, parse, policies
from connectors.google_workspace import parse as google
from connectors.keycloak import flows as keycloak_flows
from connectors.keycloak import parse as keycloak
from connectors.okta import assurance
from connectors.okta import authenticators as okta_authenticators
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
        ("keycloak.md", sorted({*keycloak.CREDENTIAL_KINDS, *keycloak.NOT_FACTOR_CREDENTIALS})),
        ("keycloak.md", list(keycloak.PENDING_ACTIONS)),
        ("keycloak.md", sorted(keycloak_flows.REQUIREMENTS)),
        ("cognito.md", list(cognito.MFA_SETTING_KINDS)),
        ("cognito.md", sorted(cognito.KNOWN_STATUSES)),
        ("cognito.md", sorted(cognito_policies.MODES | cognito_policies.SECURITY_MODES)),
        ("cognito.md", list(cognito_policies.RISK_ACTIONS)),
        ("auth0.md", sorted({*auth0.METHOD_KINDS, *auth0.NOT_FACTORS, "phone"})),
        ("auth0.md", sorted({*auth0_enforcement.FACTOR_KINDS, *auth0_enforcement.NOT_FACTORS})),
        ("auth0.md", [auth0_enforcement.ALL_APPLICATIONS, auth0_enforcement.CONFIDENCE_SCORE]),
        ("okta.md", sorted(okta_authenticators.AUTHENTICATOR_KINDS)),
        ("okta.md", sorted(okta_authenticators.SIGN_IN_USES | okta_authenticators.NOT_SIGN_IN_USES)),
    ],
    ids=["entra-registered", "entra-types", "entra-modes", "entra-configs", "google-challenges", "okta-factors",
         "okta-constraint-methods", "okta-constraint-types", "okta-chain-methods", "keycloak-credentials",
         "keycloak-required-actions", "keycloak-requirements", "cognito-mfa-settings", "cognito-statuses",
         "cognito-modes", "cognito-risk-actions", "auth0-method-types", "auth0-factors", "auth0-mfa-policies",
         "okta-authenticators", "okta-allowed-for"],
)  # fmt: skip
def test_every_known_value_is_in_the_docs(doc: str, values: list[str]) -> None:
    text = _doc(doc)
    missing = [v for v in values if f"`{v}`" not in text]
    assert missing == []


def test_okta_statuses_are_in_the_docs() -> None:
    text = _doc("okta.md")
    for status in sorted(okta.KNOWN_STATUSES | set(okta.FACTOR_STATUS) | okta.NOT_ENROLLED_STATUSES):
        assert status in text, status
