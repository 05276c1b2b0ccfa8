"""A throwaway service-account key for the sandbox, and the check of the JWT-bearer
assertions signed with it. Generated per sandbox; never written anywhere but memory."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import exceptions as google_auth_errors
from google.auth import jwt

PROJECT = "mfa-auditor-sandbox"
CLIENT_EMAIL = f"auditor@{PROJECT}.iam.gserviceaccount.com"


@dataclass(frozen=True, slots=True)
class ServiceAccountKey:
    key_id: str
    client_id: str
    private_pem: str = field(repr=False)
    public_pem: str

    def key_json(self, token_uri: str) -> str:
        return json.dumps(
            {
                "type": "service_account",
                "project_id": PROJECT,
                "private_key_id": self.key_id,
                "private_key": self.private_pem,
                "client_email": CLIENT_EMAIL,
                "client_id": self.client_id,
                "auth_uri": "https://accounts.google.com/o/oauth2/auth",
                "token_uri": token_uri,
            }
        )


def generate_key() -> ServiceAccountKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )
    return ServiceAccountKey(secrets.token_hex(20), str(10**20 + secrets.randbelow(10**20)), private_pem, public_pem)


class AssertionRejected(ValueError):
    pass


def verify_assertion(assertion: str, key: ServiceAccountKey) -> Mapping[str, Any]:
    """The claims of a JWT signed by ``key``. ``aud`` is deliberately not checked:
    google-auth always sets it to Google's token URL, whatever ``token_uri`` says."""
    try:
        claims = jwt.decode(  # type: ignore[no-untyped-call]
            assertion, certs=key.public_pem, verify=True, audience=None, clock_skew_in_seconds=60
        )
    except (ValueError, google_auth_errors.GoogleAuthError) as exc:
        raise AssertionRejected(f"invalid JWT signature or claims: {exc}") from None
    if not isinstance(claims, Mapping) or claims.get("iss") != CLIENT_EMAIL:
        raise AssertionRejected("unknown issuer")
    return claims
