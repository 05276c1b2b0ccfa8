"""The Cognito sandbox proper: moto's cognito-idp in server mode on loopback, seeded with the sample
organisation's ``cognito`` truth (users, their MFA settings, the pool's MFA and threat
protection configuration, app clients, auth events).

    with start(org) as sandbox:
        os.environ.update(sandbox.environ())
        connector = CognitoConnector("cognito", sandbox.settings(), Path("."))

Seeding writes moto's in-process model directly (the server runs in this process):
creating a million users through AdminCreateUser would measure moto, not the
connector. What moto cannot express is kept by the sandbox layer (``server.py``).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from moto.cognitoidp.models import CognitoIdpUser, CognitoIdpUserPoolClient, cognitoidp_backends

from auditor.model import Account, SignIn, SignInFactor, SourceSnapshot
from connectors.sandbox.cognito.server import (
    CATEGORY,
    CognitoServer,
    Extensions,
    Faults,
    RecordedRequest,
    ServerState,
)
from connectors.sandbox.cognito.truth import MEMBERS_POOL, SOURCE, PoolSpec
from connectors.sandbox.loopback import LoopbackSandbox
from connectors.sandbox.sample_org import SampleOrg

ACCESS_KEY_ENV = "MFA_AUDITOR_COGNITO_ACCESS_KEY_ID"
SECRET_KEY_ENV = "MFA_AUDITOR_COGNITO_SECRET_ACCESS_KEY"
REGION = "eu-west-3"
READ_ACTIONS = frozenset(CATEGORY)
SANDBOX_RATE = 2000  # requests per second per category the settings state when unthrottled
_SEED_LOCK = threading.Lock()


class CognitoSandbox(LoopbackSandbox):
    """A running sandbox (context manager). ``requests`` is the request log."""

    def __init__(self, state: ServerState, pool_id: str) -> None:
        self._state = state
        self.pool_id = pool_id
        self._moto = CognitoServer(state)
        self._moto.start()
        host, port = self._moto.get_host_and_port()
        self.base_url = f"http://{host}:{port}"

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._state.lock:
            return list(self._state.requests)

    @property
    def faults(self) -> Faults:
        return self._state.faults

    @property
    def throttled(self) -> int:
        with self._state.lock:
            return self._state.throttled

    def settings(self) -> dict[str, Any]:
        """Connector settings for this sandbox. The quotas stated are the sandbox's own
        (unthrottled unless ``budgets`` say otherwise), not AWS's: the demo need not
        wait as a real pool would make it."""
        return {
            "user_pool_id": self.pool_id,
            "region": REGION,
            "endpoint_url": self.base_url,
            "access_key_id": {"env": ACCESS_KEY_ENV},
            "secret_access_key": {"env": SECRET_KEY_ENV},
            "quota_share": 1.0,
            "quotas": {c: float(self._state.budgets.get(c, SANDBOX_RATE)) for c in sorted(set(CATEGORY.values()))},
        }

    def environ(self) -> dict[str, str]:
        return {ACCESS_KEY_ENV: self._state.access_key_id, SECRET_KEY_ENV: self._state.secret_access_key}

    def close(self) -> None:
        self._moto.stop()
        backend = cognitoidp_backends[self._state.account_id][REGION]
        backend.user_pools.pop(self.pool_id, None)

    def __repr__(self) -> str:
        return f"CognitoSandbox({self.base_url}, pool={self.pool_id})"


def _pool_config(spec: PoolSpec) -> dict[str, Any]:
    config: dict[str, Any] = {
        "MfaConfiguration": spec.mfa,
        "UserPoolAddOns": {"AdvancedSecurityMode": spec.security_mode},
        "Policies": {
            "PasswordPolicy": {"MinimumLength": 12},
            "SignInPolicy": {"AllowedFirstAuthFactors": list(spec.first_factors)},
        },
        "UsernameConfiguration": {"CaseSensitive": False},
    }
    if spec.define_auth_challenge:
        config["LambdaConfig"] = {"DefineAuthChallenge": spec.define_auth_challenge}
    if spec.device_tracking:
        config["DeviceConfiguration"] = {
            "ChallengeRequiredOnNewDevice": True,
            "DeviceOnlyRememberedOnUserPrompt": True,
        }
    return config


def _risk(actions: Mapping[str, str]) -> dict[str, Any]:
    return {
        "AccountTakeoverRiskConfiguration": {
            "Actions": {f"{lv}Action": {"Notify": False, "EventAction": act} for lv, act in actions.items()}
        }
    }


def _events(account: Account, sign_ins: Sequence[SignIn]) -> list[dict[str, Any]]:
    """Auth events newest first, as Cognito lists them: each sign-in of the truth (with
    a successful Mfa challenge when multi-factor), a failed attempt before it, and one
    older sign-in from before the period so that paging has to stop by date."""
    out: list[dict[str, Any]] = []
    for i, s in enumerate(sign_ins):
        challenges = [{"ChallengeName": "Password", "ChallengeResponse": "Success"}]
        if s.factor is SignInFactor.MULTI:
            challenges.append({"ChallengeName": "Mfa", "ChallengeResponse": "Success"})
        out.append(
            {
                "EventId": f"{account.id[:8]}-{i}",
                "EventType": "SignIn",
                "CreationDate": s.time,
                "EventResponse": "Pass",
                "EventRisk": {"RiskDecision": "NoRisk", "RiskLevel": "Low"},
                "ChallengeResponses": challenges,
            }
        )
        out.append(
            {
                "EventId": f"{account.id[:8]}-{i}-fail",
                "EventType": "SignIn",
                "CreationDate": s.time - timedelta(minutes=2),
                "EventResponse": "Fail",
                "ChallengeResponses": [{"ChallengeName": "Password", "ChallengeResponse": "Failure"}],
            }
        )
    if sign_ins:
        oldest = min(s.time for s in sign_ins)
        out.append(
            {
                "EventId": f"{account.id[:8]}-old",
                "EventType": "SignIn",
                "CreationDate": oldest - timedelta(days=100),
                "EventResponse": "Pass",
                "ChallengeResponses": [{"ChallengeName": "Password", "ChallengeResponse": "Success"}],
            }
        )
    out.sort(key=lambda e: e["CreationDate"].timestamp(), reverse=True)
    return out


def start(
    org: SampleOrg,
    *,
    spec: PoolSpec = MEMBERS_POOL,
    truth: SourceSnapshot | None = None,
    budgets: Mapping[str, int] | None = None,
    script: Mapping[str, Sequence[str]] | None = None,
    persistent: Mapping[str, str] | None = None,
    timeout_delay: float = 1.0,
    granted: Iterable[str] = READ_ACTIONS,
    extra_settings: Mapping[str, Sequence[str]] | None = None,
    secret_access_key: str | None = None,
) -> CognitoSandbox:
    """Serve ``truth`` (default ``org.truth("cognito")``) as a pool configured by
    ``spec``. ``budgets``: requests per second per quota category (default:
    unlimited); ``script`` / ``persistent``: faults per operation (see ``Faults``);
    ``granted``: the IAM actions allowed; ``extra_settings``: per username, values
    added to ``UserMFASettingList`` (e.g. one the connector does not know);
    ``secret_access_key``: the key to accept (default: a random throwaway one)."""
    snap = truth if truth is not None else org.truth(SOURCE)
    account_id = f"{secrets.randbelow(10**12):012d}"
    backend = cognitoidp_backends[account_id][REGION]
    ext = Extensions()
    with _SEED_LOCK:
        pool = backend.create_user_pool(spec.name, _pool_config(spec))
    pid = pool.id
    sms = {"SmsAuthenticationMessage": "Code: {####}", "SmsConfiguration": {"SnsCallerArn": "arn:aws:iam::1:role/sns"}}
    pool.mfa_config = spec.mfa
    pool.sms_mfa_config = sms if spec.sms else None
    pool.token_mfa_config = {"Enabled": True} if spec.totp else None
    extra: dict[str, Any] = {}
    if spec.email:
        extra["EmailMfaConfiguration"] = {"Message": "Your code is {####}", "Subject": "Your sign-in code"}
    if spec.webauthn_factor is not None:
        extra["WebAuthnConfiguration"] = {
            "RelyingPartyId": "auth.example.org",
            "UserVerification": "required",
            "FactorConfiguration": spec.webauthn_factor,
        }
    ext.mfa_extra[pid] = extra
    ext.security_mode[pid] = spec.security_mode
    for client_key, actions in spec.risk_actions.items():
        ext.risk[(pid, client_key)] = _risk(actions)
    for cid, name in spec.clients:
        flows = ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
        if cid in spec.custom_auth_clients:
            flows.append("ALLOW_CUSTOM_AUTH")
        client = CognitoIdpUserPoolClient(pid, False, {"ClientName": name, "ExplicitAuthFlows": flows})
        client.id = cid
        pool.clients[cid] = client
    by_account: dict[str, list[SignIn]] = {}
    for s in snap.sign_ins:
        by_account.setdefault(s.account_id, []).append(s)
    for a in snap.accounts:
        username = a.attributes.get("username", a.id)
        attrs = [{"Name": "email", "Value": a.principal}, {"Name": "name", "Value": a.display_name}]
        if "email_verified" in a.attributes:
            attrs.append({"Name": "email_verified", "Value": a.attributes["email_verified"]})
        user = CognitoIdpUser(pid, username, None, a.attributes.get("user_status", "CONFIRMED"), attrs)
        user.id = a.id
        user.update_attributes([{"Name": "sub", "Value": a.id}])
        user.enabled = a.enabled
        if a.created is not None:
            user.create_date = a.created
        settings = [m.vendor_label for m in a.methods]
        user.sms_mfa_enabled = "SMS_MFA" in settings
        user.software_token_mfa_enabled = "SOFTWARE_TOKEN_MFA" in settings
        user.preferred_mfa_setting = a.attributes.get("preferred_mfa", "")
        others = [s for s in settings if s not in ("SMS_MFA", "SOFTWARE_TOKEN_MFA")]
        others += list((extra_settings or {}).get(username, ()))
        if others:
            ext.settings_extra[(pid, username)] = others
        pool.users[username] = user
        events = _events(a, by_account.get(a.id, []))
        if events or a.last_sign_in is not None:
            ext.events[(pid, username)] = events
    state = ServerState(
        access_key_id="AKIA" + secrets.token_hex(8).upper(),
        secret_access_key=secret_access_key or secrets.token_urlsafe(30),
        account_id=account_id,
        region=REGION,
        granted=frozenset(granted),
        budgets=dict(budgets or {}),
        faults=Faults(
            script={k: list(v) for k, v in (script or {}).items()},
            persistent=dict(persistent or {}),
            timeout_delay=timeout_delay,
        ),
        ext=ext,
    )
    return CognitoSandbox(state, pid)


__all__ = [
    "ACCESS_KEY_ENV",
    "READ_ACTIONS",
    "SECRET_KEY_ENV",
    "CognitoSandbox",
    "PoolSpec",
    "RecordedRequest",
    "start",
]
