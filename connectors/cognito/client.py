"""The boto3 ``cognito-idp`` client, built in isolation, and one paced, retried call.

Isolation: the client is given its credentials, region and endpoint explicitly and a
botocore session whose config and credential files point nowhere, so neither the
ambient AWS environment (``AWS_PROFILE``, ``AWS_ENDPOINT_URL``, shared files, instance
roles) nor anything else can change what is signed or where it is sent.

Retries: botocore's own are switched off (``total_max_attempts: 1``) and done here,
because botocore's standard and adaptive modes keep their own token bucket per client,
blind to Cognito's per-category quotas, and hide how many requests were retried.
Here each attempt takes a paced slot in its category, and a throttled or failed
attempt is counted, then retried after an exponential backoff, a bounded number of
times.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from auditor.config.secrets import reveal_line
from auditor.interfaces import NO_PROGRESS, AuthenticationError, CollectProgress, SecretError
from auditor.text import visible_controls
from connectors.cognito.pacing import Pacer
from connectors.cognito.settings import CATEGORY, CognitoSettings

THROTTLE_CODES = frozenset({"TooManyRequestsException", "ThrottlingException", "RequestLimitExceeded"})
CREDENTIAL_CODES = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "IncompleteSignature",
    }
)
DENIED_CODES = frozenset({"AccessDeniedException", "AccessDenied"})
MAX_BACKOFF = 20.0
# The member every successful answer of each operation carries. botocore turns a body that
# is not JSON into ``{"message": <body>}`` without raising: without this check a truncated
# or garbled page would read as an empty one (measured by the fault matrix).
REQUIRED_KEY = {
    "DescribeUserPool": "UserPool",
    "GetUserPoolMfaConfig": "MfaConfiguration",
    "DescribeRiskConfiguration": "RiskConfiguration",
    "ListUsers": "Users",
    "AdminGetUser": "Username",
    "ListUserPoolClients": "UserPoolClients",
    "DescribeUserPoolClient": "UserPoolClient",
    "AdminListUserAuthEvents": "AuthEvents",
}


class CallFailed(Exception):
    """A Cognito call that did not succeed within the attempts allowed."""

    def __init__(self, operation: str, code: str, message: str, attempts: int) -> None:
        self.operation = operation
        self.code = code
        self.attempts = attempts
        detail = visible_controls(message)[:300]
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        super().__init__(f"{operation} failed{tries}: {code}" + (f" ({detail})" if detail else ""))

    @property
    def permission_denied(self) -> bool:
        return self.code in DENIED_CODES


def isolated_client(settings: CognitoSettings) -> Any:
    try:
        # Signed into headers: a line break would be a clear error here, not botocore's.
        key_id = reveal_line(settings.access_key_id, "access_key_id")
        secret = reveal_line(settings.secret_access_key, "secret_access_key")
        token = reveal_line(settings.session_token, "session_token") if settings.session_token is not None else None
    except SecretError as exc:
        raise AuthenticationError(str(exc)) from None
    # No profile and no shared config or credentials file, whatever AWS_PROFILE,
    # AWS_CONFIG_FILE or AWS_SHARED_CREDENTIALS_FILE say: nothing outside the audit config counts.
    session = botocore.session.Session(
        session_vars={
            "profile": (None, None, None, None),
            "config_file": (None, None, os.devnull, None),
            "credentials_file": (None, None, os.devnull, None),
        }
    )
    # botocore reads HTTP(S)_PROXY unless given proxies; an empty mapping means direct.
    proxy = settings.transport.proxy
    proxies: dict[str, str] | None = {} if not settings.transport.trust_env else None
    if proxy is not None:
        proxies = {"https": proxy.url, "http": proxy.url}
    config = Config(
        proxies=proxies,
        retries={"total_max_attempts": 1, "mode": "standard"},
        connect_timeout=settings.request_timeout_seconds,
        read_timeout=settings.request_timeout_seconds,
        max_pool_connections=max(10, settings.max_concurrency),
        user_agent_extra="mfa-auditor",
    )
    return session.create_client(
        "cognito-idp",
        region_name=settings.region,
        endpoint_url=settings.endpoint_url,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=config,
    )


@dataclass(slots=True)
class CallCounts:
    requests: int = 0
    retries: int = 0


class CognitoApi:
    """Paced, retried calls on one client. Thread-safe: boto3 clients are."""

    def __init__(
        self,
        client: Any,
        pacer: Pacer,
        max_attempts: int,
        retry_delay: float = 0.25,
        sleep: Callable[[float], None] = time.sleep,
        progress: CollectProgress = NO_PROGRESS,
    ) -> None:
        self.client = client
        self.progress = progress
        self.pacer = pacer
        self._max_attempts = max_attempts
        self._retry_delay = retry_delay
        self._sleep = sleep
        self._lock = threading.Lock()
        self.counts: dict[str, CallCounts] = {}

    def _count(self, operation: str, retry: bool) -> None:
        with self._lock:
            c = self.counts.setdefault(operation, CallCounts())
            c.requests += 1
            c.retries += int(retry)
        self.progress.request()

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        category = CATEGORY[operation]
        method = getattr(self.client, _snake(operation))
        code, message = "", ""
        for attempt in range(1, self._max_attempts + 1):
            self.pacer.acquire(category)
            self._count(operation, attempt > 1)
            try:
                answer: dict[str, Any] = method(**params)
                if REQUIRED_KEY[operation] in answer:
                    return answer
                code, message = "MalformedResponse", f"the answer has no {REQUIRED_KEY[operation]}"
            except ClientError as exc:
                error = exc.response.get("Error", {})
                code = str(error.get("Code") or "Unknown")
                message = str(error.get("Message") or "")
                status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
                if code in CREDENTIAL_CODES:
                    raise AuthenticationError(
                        f"AWS refused the access key ({code}); check access_key_id / secret_access_key"
                    ) from None
                if code in THROTTLE_CODES:
                    self.pacer.throttled(category)
                elif status < 500:
                    raise CallFailed(operation, code, message, attempt) from None
            except BotoCoreError as exc:  # connection reset, timeout, unparseable answer
                code, message = type(exc).__name__, ""
            if attempt < self._max_attempts:
                delay = min(MAX_BACKOFF, self._retry_delay * 2 ** (attempt - 1))
                self.progress.waiting(delay, f"{operation}: {code or 'error'}, retrying")
                self._sleep(delay)
        raise CallFailed(operation, code, message, self._max_attempts)


def _snake(operation: str) -> str:
    out = []
    for i, ch in enumerate(operation):
        if ch.isupper() and i:
            out.append("_")
        out.append(ch.lower())
    return "".join(out)
