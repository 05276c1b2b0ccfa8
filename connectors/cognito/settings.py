"""The Cognito connector's settings, the read-only IAM actions it needs and the request
quota categories it paces itself by.

Credentials are an access key given as secret references only: the connector never
falls back on boto3's credential chain (environment, shared files, instance roles), so
that what it signs with, and where it sends it, is exactly what the config says.
Every problem is a ``SettingsError`` naming the key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from auditor.config.secrets import settings_secret
from auditor.interfaces import Secret, SettingsError
from auditor.transport import TRANSPORT_KEYS, Transport, parse_transport


@dataclass(frozen=True, slots=True)
class ActionNeed:
    action: str  # the IAM action, without the ``cognito-idp:`` prefix
    purpose: str
    optional: bool = False  # needed only when the source collects sign-ins


# Read-only actions only (docs/cognito.md gives the policy with the same reasons).
DESCRIBE_POOL = ActionNeed("DescribeUserPool", "the pool: MFA mode, threat protection mode, estimated user count")
MFA_CONFIG = ActionNeed("GetUserPoolMfaConfig", "the MFA types the pool enables (SMS, TOTP, e-mail, passkey)")
RISK_CONFIG = ActionNeed("DescribeRiskConfiguration", "adaptive authentication: the action per risk level")
LIST_USERS = ActionNeed("ListUsers", "every user of the pool")
GET_USER = ActionNeed("AdminGetUser", "each user's active MFA settings and preferred MFA")
LIST_CLIENTS = ActionNeed("ListUserPoolClients", "the app clients (portals)")
DESCRIBE_CLIENT = ActionNeed(
    "DescribeUserPoolClient",
    "each app client's ExplicitAuthFlows, read only when the pool has a custom-authentication Lambda "
    "(without it, every client is taken to allow the custom flow)",
    True,
)
AUTH_EVENTS = ActionNeed(
    "AdminListUserAuthEvents", "sign-in events of the period (threat protection only; with collect_sign_ins)", True
)
ALL_ACTIONS: tuple[ActionNeed, ...] = (
    DESCRIBE_POOL,
    MFA_CONFIG,
    RISK_CONFIG,
    LIST_USERS,
    GET_USER,
    LIST_CLIENTS,
    DESCRIBE_CLIENT,
    AUTH_EVENTS,
)

# Each action's request-rate quota category (Amazon Cognito quotas page) and the
# category's default quota in requests per second, per account and region.
CATEGORY = {
    "DescribeUserPool": "UserPoolRead",
    "GetUserPoolMfaConfig": "UserPoolRead",
    "DescribeRiskConfiguration": "UserPoolRead",
    "ListUsers": "UserList",
    "AdminGetUser": "UserRead",
    "ListUserPoolClients": "UserPoolClientRead",
    "DescribeUserPoolClient": "UserPoolClientRead",
    "AdminListUserAuthEvents": "UserResourceRead",
}
DEFAULT_QUOTAS = {
    "UserPoolRead": 15.0,
    "UserList": 30.0,  # not adjustable
    "UserRead": 120.0,  # adjustable
    "UserPoolClientRead": 5.0,  # 15 per account, but 5 per pool for any one operation
    "UserResourceRead": 50.0,
}

DEFAULT_QUOTA_SHARE = 0.5
DEFAULT_MAX_CONCURRENCY = 8
DEFAULT_MAX_ATTEMPTS = 6
DEFAULT_TIMEOUT = 30.0
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_POOL_ID = re.compile(r"^[\w-]+_[0-9a-zA-Z]+$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")

_KNOWN = frozenset(
    {
        "user_pool_id",
        "region",
        "access_key_id",
        "secret_access_key",
        "session_token",
        "endpoint_url",
        "quota_share",
        "quotas",
        "max_concurrency",
        "max_attempts",
        "request_timeout_seconds",
        *TRANSPORT_KEYS,
    }
)


@dataclass(frozen=True, slots=True)
class CognitoSettings:
    user_pool_id: str
    region: str
    access_key_id: Secret
    secret_access_key: Secret
    session_token: Secret | None
    endpoint_url: str
    quota_share: float = DEFAULT_QUOTA_SHARE
    quotas: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_QUOTAS))
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    request_timeout_seconds: float = DEFAULT_TIMEOUT
    transport: Transport = field(default_factory=Transport)  # proxy and trust_env (auditor.transport)

    def rate(self, category: str) -> float:
        """Requests per second the connector allows itself in ``category``."""
        return self.quotas[category] * self.quota_share


def _secret(value: Any, key: str, base_dir: Path) -> Secret:
    return settings_secret(value, key, base_dir)  # the one parser of secret references


def _number(value: Any, key: str, low: float, high: float, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise SettingsError(key, f"{what} from {low:g} to {high:g}", repr(value))
    return float(value)


def _int(settings: Mapping[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = settings.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SettingsError(key, f"an integer from {low} to {high}", repr(value))
    return value


def _endpoint(value: Any, region: str) -> str:
    """The one origin requests (and their signatures) go to. http:// only on loopback:
    a signed request over plain HTTP elsewhere could be replayed by anyone on the path."""
    if value is None:
        return f"https://cognito-idp.{region}.amazonaws.com"
    if not isinstance(value, str) or not value.strip():
        raise SettingsError("endpoint_url", "a URL such as https://cognito-idp.eu-west-3.amazonaws.com", repr(value))
    parts = urlsplit(value.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.path not in ("", "/") or parts.query:
        raise SettingsError("endpoint_url", "a bare https:// URL (scheme, host, optional port)", value)
    if parts.scheme == "http" and parts.hostname not in LOOPBACK:
        raise SettingsError("endpoint_url", "an https:// URL (http:// only for a loopback sandbox)", value)
    return value.strip().rstrip("/")


def _quotas(value: Any) -> dict[str, float]:
    quotas = dict(DEFAULT_QUOTAS)
    if value is None:
        return quotas
    if not isinstance(value, Mapping):
        raise SettingsError("quotas", "a mapping of quota category → requests per second", type(value).__name__)
    for name, rps in value.items():
        if name not in DEFAULT_QUOTAS:
            raise SettingsError(f"quotas.{name}", f"one of {', '.join(sorted(DEFAULT_QUOTAS))}", "an unknown category")
        quotas[name] = _number(rps, f"quotas.{name}", 0.1, 100_000, "requests per second")
    return quotas


def parse_settings(settings: Mapping[str, Any], base_dir: Path) -> CognitoSettings:
    if not isinstance(settings, Mapping):
        raise SettingsError("settings", "a mapping", type(settings).__name__)
    unknown = sorted(set(settings) - _KNOWN)
    if unknown:
        raise SettingsError(unknown[0], f"one of {', '.join(sorted(_KNOWN))}", "an unknown key")
    pool = settings.get("user_pool_id")
    if not isinstance(pool, str) or not _POOL_ID.match(pool):
        raise SettingsError("user_pool_id", "the user pool ID, e.g. eu-west-3_AbC123xyz", repr(pool))
    region = settings.get("region", pool.partition("_")[0])
    if not isinstance(region, str) or not _REGION.match(region):
        raise SettingsError("region", "an AWS region such as eu-west-3", repr(region))
    for key in ("access_key_id", "secret_access_key"):
        if settings.get(key) is None:
            raise SettingsError(key, "a secret reference {env: VAR} or {file: path}", "nothing")
    token = settings.get("session_token")
    return CognitoSettings(
        transport=parse_transport(settings),
        user_pool_id=pool,
        region=region,
        access_key_id=_secret(settings["access_key_id"], "access_key_id", base_dir),
        secret_access_key=_secret(settings["secret_access_key"], "secret_access_key", base_dir),
        session_token=None if token is None else _secret(token, "session_token", base_dir),
        endpoint_url=_endpoint(settings.get("endpoint_url"), region),
        quota_share=_number(settings.get("quota_share", DEFAULT_QUOTA_SHARE), "quota_share", 0.01, 1.0, "a share"),
        quotas=_quotas(settings.get("quotas")),
        max_concurrency=_int(settings, "max_concurrency", DEFAULT_MAX_CONCURRENCY, 1, 64),
        max_attempts=_int(settings, "max_attempts", DEFAULT_MAX_ATTEMPTS, 1, 20),
        request_timeout_seconds=_number(
            settings.get("request_timeout_seconds", DEFAULT_TIMEOUT), "request_timeout_seconds", 0.1, 600, "seconds"
        ),
    )
