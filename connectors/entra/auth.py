"""Application tokens for Microsoft Graph through msal (client-credentials flow).

msal is the only place the credential is revealed; its value never reaches a log,
an exception or a repr. One ``ConfidentialClientApplication`` per connector: msal
caches token-endpoint failures per application object, so a fresh connector gets a
fresh answer.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import msal
import requests

from auditor.config.secrets import reveal_line
from auditor.interfaces import AuthenticationError, SecretError, SettingsError, SourceUnavailable
from connectors.entra.settings import CertificateCredential, EntraSettings, SecretCredential


def _credential(settings: EntraSettings) -> str | dict[str, str]:
    cred = settings.credential
    if isinstance(cred, SecretCredential):
        return reveal_line(cred.secret, "client_secret")
    assert isinstance(cred, CertificateCredential)
    try:
        key = cred.private_key.reveal()
        cert = cred.certificate.read_text(encoding="utf-8")
    except OSError as exc:
        raise AuthenticationError(f"certificate credential cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise AuthenticationError(
            "certificate.certificate: expected a PEM certificate, got bytes that are not text"
        ) from None
    except SecretError as exc:
        raise AuthenticationError(f"certificate private key cannot be read: {exc}") from None
    # Without a thumbprint msal (>= 1.35) derives a SHA-256 one from the public certificate.
    out = {"private_key": key, "public_certificate": cert}
    if cred.passphrase is not None:
        out["passphrase"] = reveal_line(cred.passphrase, "certificate.passphrase")
    _check_private_key(key, out.get("passphrase"))
    return out


def _check_private_key(pem: str, passphrase: str | None) -> None:
    """Read the key now: msal signs with PyJWT, whose errors on a garbage key escape as a
    traceback on the first token request."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        load_pem_private_key(pem.encode("utf-8"), passphrase.encode("utf-8") if passphrase else None)
    except (ValueError, TypeError):
        # cryptography's messages name no key material, but say nothing of it either way.
        raise SettingsError(
            "certificate.private_key",
            "a PEM private key (with certificate.passphrase if it is encrypted)",
            "a value that cannot be read as one",
        ) from None


def _first_line(text: object) -> str:
    return str(text or "").strip().splitlines()[0] if text else ""


class TokenSource:
    """Acquires and refreshes the app-only Graph token."""

    def __init__(self, settings: EntraSettings, session: requests.Session) -> None:
        self._settings = settings
        self._session = session
        self._app: Any = None
        self._token: str | None = None
        self.acquired = 0  # tokens obtained from the identity provider (not the cache)

    def _application(self) -> Any:
        if self._app is None:
            s = self._settings
            try:
                credential = _credential(s)
            except SecretError as exc:
                raise AuthenticationError(str(exc)) from None
            try:
                self._app = msal.ConfidentialClientApplication(
                    s.client_id,
                    client_credential=credential,
                    authority=s.authority,
                    # A national cloud or the sandbox is not in msal's list of known hosts;
                    # the authority is given by the operator, so skip instance discovery.
                    instance_discovery=False,
                    http_client=self._session,
                    token_cache=msal.TokenCache(),
                )
            except ValueError as exc:
                raise AuthenticationError(f"msal refused the authority or credential: {exc}") from exc
            except requests.RequestException as exc:
                raise SourceUnavailable(f"cannot reach the authority {s.authority_host}: {type(exc).__name__}") from exc
        return self._app

    def token(self) -> str:
        if self._token is None:
            self._token = self._acquire()
        return self._token

    def refresh(self) -> str:
        """A new token from the identity provider, bypassing msal's cache (after a 401)."""
        app = self._application()
        app.remove_tokens_for_client()
        self._token = self._acquire()
        return self._token

    def _acquire(self) -> str:
        app = self._application()
        try:
            result = app.acquire_token_for_client(scopes=[self._settings.scope])
        except requests.RequestException as exc:
            raise SourceUnavailable(
                f"cannot reach the token endpoint of {self._settings.authority_host}: {type(exc).__name__}"
            ) from exc
        except ValueError as exc:  # e.g. a discovery document msal cannot use
            raise AuthenticationError(f"token request failed: {exc}") from exc
        token = result.get("access_token") if isinstance(result, dict) else None
        if not isinstance(token, str) or not token:
            error = result.get("error", "unknown_error") if isinstance(result, dict) else "unknown_error"
            desc = _first_line(result.get("error_description")) if isinstance(result, dict) else ""
            raise AuthenticationError(f"token request refused for client {self._settings.client_id}: {error}: {desc}")
        if result.get("token_source") != "cache":
            self.acquired += 1
        return token

    def roles(self) -> tuple[str, ...] | None:
        """The application permissions in the token's ``roles`` claim; None if unreadable."""
        return token_roles(self.token())


def token_roles(token: str) -> tuple[str, ...] | None:
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (ValueError, UnicodeDecodeError):
        return None
    roles = claims.get("roles") if isinstance(claims, dict) else None
    if roles is None:
        return ()
    if not isinstance(roles, list):
        return None
    return tuple(str(r) for r in roles)
