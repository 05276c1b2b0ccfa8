"""The fault matrix's Cognito column: every fault of ``test_matrix.FAULTS`` on the
``ListUsers`` listing of the moto-based sandbox, mid-run (page 2 of 3), collected
through boto3 and the real connector. Each run comes to exactly the truth, or says it
is incomplete and why, or raises a clear error; never a silent short read, a
duplicate or a traceback. docs/cognito.md repeats the column."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from auditor.interfaces import CollectContext, ConnectorError
from connectors.cognito import CognitoConnector
from connectors.sandbox.cognito.sandbox import start
from connectors.sandbox.sample_org import generate

from .harness import environ
from .test_matrix import FAULTS

ORG = generate(seed=7, accounts=1500)  # 150 Cognito members: three ListUsers pages
C, INC, U = "complete", "incomplete", "unavailable"
# The matrix's own actions, in the Cognito sandbox's words.
ACTION = {
    "429": "throttle",
    "timeout": "timeout",
    "reset": "reset",
    "malformed": "malformed",
    "no_next": "drop_token",
    "loop_next": "loop_token",
    "dup_next": "dup",
    "401": "expired",
    "403": "denied",
}
EXPECTED = {
    "429 storm (4 in a row)": C,
    "429 without end": INC,
    "500 twice": C,
    "502 twice": C,
    "503 twice": C,
    "504 twice": C,
    "503 without end": INC,
    "timeout": C,
    "connection reset mid-page": C,
    "malformed JSON": C,
    "page missing its next link": INC,
    "next link loops back": INC,
    "same record on two pages": C,
    # Temporary credentials are not refreshed: the run stops, named.
    "token expired mid-run": U,
    "permission removed mid-run": INC,
}


def test_every_matrix_fault_has_a_cognito_cell() -> None:
    assert set(EXPECTED) == set(FAULTS)


@pytest.mark.parametrize("fault", list(FAULTS))
def test_cognito_fault(fault: str) -> None:
    script, persistent = FAULTS[fault]
    options = {
        "script": {"ListUsers": [ACTION.get(a, a) for a in script]},
        "persistent": {"ListUsers": ACTION.get(persistent, persistent)} if persistent else {},
        "timeout_delay": 1.4,
    }
    truth = ORG.truth("cognito")
    with start(ORG, **options) as sandbox, environ(sandbox.environ()):
        settings = {
            **sandbox.settings(),
            "quota_share": 1.0,
            "request_timeout_seconds": 1.0,
            "max_attempts": 6,
            "quotas": {
                "UserList": 1000,
                "UserRead": 5000,
                "UserPoolRead": 1000,
                "UserPoolClientRead": 1000,
                "UserResourceRead": 1000,
            },
        }
        connector = CognitoConnector("cognito", settings, Path("."), retry_delay=0.001)
        ctx = CollectContext("cognito", ORG.now, ORG.period_start, ORG.period_end)
        try:
            snap = connector.collect(ctx)
        except ConnectorError as exc:
            kind, reason = U, str(exc)
        else:
            ids = Counter(a.id for a in snap.accounts)
            assert all(n == 1 for n in ids.values()), "duplicate account"
            if snap.complete:
                expected = tuple(replace(a, last_sign_in=None) for a in truth.accounts)
                assert snap.accounts == expected, "complete but not the truth"
                kind, reason = C, ""
            else:
                kind = INC
                reason = "; ".join(i.message for i in snap.issues if i.incomplete)
        calls = [r for r in sandbox.requests if r.operation == "ListUsers"]
    assert len(calls) >= len(script) + (persistent is not None)
    assert kind == EXPECTED[fault], reason
    if kind != C:
        assert reason.strip() and "Traceback" not in reason
    assert os.environ.get("MFA_AUDITOR_COGNITO_SECRET_ACCESS_KEY") is None
