"""Cognito sandbox: moto's cognito-idp in server mode on loopback, seeded with the sample
organisation's ``cognito`` truth. ``start`` is in ``sandbox.py``; this package stays
light (no moto import) because the sample organisation's generator imports ``truth``.

    with start(org) as sandbox:
        os.environ.update(sandbox.environ())
        connector = CognitoConnector("cognito", sandbox.settings(), Path("."))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connectors.sandbox.cognito.sandbox import CognitoSandbox
    from connectors.sandbox.sample_org import SampleOrg


def start(org: SampleOrg, **options: Any) -> CognitoSandbox:
    """See ``connectors.sandbox.cognito.sandbox.start``."""
    from connectors.sandbox.cognito.sandbox import start as start_sandbox

    return start_sandbox(org, **options)


__all__ = ["start"]
