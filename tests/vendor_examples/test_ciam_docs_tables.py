"""The customer-identity and Okta docs' tables list every vendor value the connectors
know (the value-by-value audit's families): a value added to a mapping without its line
in docs/ fails here. Kept apart from test_docs_tables.py so that each audit adds its own
rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.auth0 import enforcement as auth0_enforcement
from connectors.auth0 import parse as auth0
from connectors.cognito import parse as cognito
from connectors.cognito import policies as cognito_policies
from connectors.keycloak import flows as keycloak_flows
from connectors.keycloak import parse as keycloak
from connectors.okta import authenticators as okta_authenticators

DOCS = Path(__file__).resolve().parents[2] / "docs"

TABLES: dict[str, tuple[str, list[str]]] = {
    "keycloak-credentials": ("keycloak.md", sorted({*keycloak.CREDENTIAL_KINDS, *keycloak.NOT_FACTOR_CREDENTIALS})),
    "keycloak-required-actions": ("keycloak.md", list(keycloak.PENDING_ACTIONS)),
    "keycloak-requirements": ("keycloak.md", sorted(keycloak_flows.REQUIREMENTS)),
    "cognito-mfa-settings": ("cognito.md", list(cognito.MFA_SETTING_KINDS)),
    "cognito-statuses": ("cognito.md", sorted(cognito.KNOWN_STATUSES)),
    "cognito-modes": ("cognito.md", sorted(cognito_policies.MODES | cognito_policies.SECURITY_MODES)),
    "cognito-risk-actions": ("cognito.md", list(cognito_policies.RISK_ACTIONS)),
    "cognito-custom-auth-flows": ("cognito.md", sorted(cognito_policies.CUSTOM_AUTH_FLOWS)),
    "auth0-method-types": ("auth0.md", sorted({*auth0.METHOD_KINDS, *auth0.NOT_FACTORS, "phone"})),
    "auth0-factors": ("auth0.md", sorted({*auth0_enforcement.FACTOR_KINDS, *auth0_enforcement.NOT_FACTORS})),
    "auth0-mfa-policies": ("auth0.md", [auth0_enforcement.ALL_APPLICATIONS, auth0_enforcement.CONFIDENCE_SCORE]),
    "okta-authenticators": ("okta.md", sorted(okta_authenticators.AUTHENTICATOR_KINDS)),
    "okta-allowed-for": ("okta.md", sorted(okta_authenticators.SIGN_IN_USES | okta_authenticators.NOT_SIGN_IN_USES)),
}


@pytest.mark.parametrize("table", sorted(TABLES))
def test_every_known_value_is_in_the_docs(table: str) -> None:
    doc, values = TABLES[table]
    text = (DOCS / doc).read_text(encoding="utf-8")
    missing = [v for v in values if f"`{v}`" not in text]
    assert missing == []
