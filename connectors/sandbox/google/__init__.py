"""Google Workspace sandbox: the sample organisation's ``google`` truth served on
loopback as the Admin SDK (Directory users / org units / roles / role assignments /
members of the role-holding groups, Reports usage and login audit)
plus the OAuth token endpoint for the service-account JWT grant.

    with start(org, script={"users": ["ok", "429"]}, retry_after=0) as sandbox:
        os.environ.update(sandbox.environ())
        connector = GoogleWorkspaceConnector("google", sandbox.settings(), Path("."))

The client reaches it through ``client_options["api_endpoint"]`` and the key's
``token_uri``; discovery documents come from the library's static copies.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from auditor.model import SignIn
from connectors.sandbox.google import shapes
from connectors.sandbox.google.keys import ServiceAccountKey, generate_key
from connectors.sandbox.google.server import Faults, RecordedRequest, State, serve
from connectors.sandbox.google.shapes import SUPER_ADMIN_ROLE, derived_sign_ins
from connectors.sandbox.loopback import LoopbackSandbox
from connectors.sandbox.sample_org import DOMAIN, SampleOrg

KEY_ENV = "MFA_AUDITOR_GOOGLE_KEY"
SOURCE = "google"


class GoogleSandbox(LoopbackSandbox):
    """A running sandbox (context manager). ``requests`` is the request log."""

    def __init__(self, state: State) -> None:
        self._state = state
        self._server, self._thread = serve(state)
        host, port = self._server.server_address[:2]
        self.base_url = f"http://{host!s}:{port}"

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._state.lock:
            return list(self._state.requests)

    @property
    def faults(self) -> Faults:
        """Mutable: a test may change faults between calls."""
        return self._state.faults

    @property
    def admin(self) -> str:
        return self._state.admin

    @property
    def key(self) -> ServiceAccountKey:
        return self._state.key

    @property
    def roles(self) -> tuple[dict[str, Any], ...]:
        """The roles.list items served."""
        return self._state.roles

    @property
    def role_assignments(self) -> tuple[dict[str, Any], ...]:
        """The roleAssignments.list items served."""
        return self._state.role_assignments

    @property
    def groups(self) -> dict[str, list[dict[str, Any]]]:
        """Group id → its direct members.list entries. Mutable: a test may add members
        (a CUSTOMER or external entry, a nested group, a cycle) before collecting."""
        return self._state.groups

    @property
    def sign_ins(self) -> tuple[SignIn, ...]:
        """The login events served (the truth's, or derived when it has none)."""
        return self._state.sign_ins

    def key_json(self) -> str:
        return self._state.key.key_json(self.base_url + "/token")

    def settings(self) -> dict[str, Any]:
        return {
            "credentials": {"env": KEY_ENV},
            "delegated_admin": self._state.admin,
            "api_endpoint": self.base_url + "/",
            "token_uri": self.base_url + "/token",
            "allow_insecure_http": True,  # the sandbox speaks plain http on loopback
        }

    def environ(self) -> dict[str, str]:
        return {KEY_ENV: self.key_json()}

    def __repr__(self) -> str:
        return f"GoogleSandbox({self.base_url})"


def start(
    org: SampleOrg,
    *,
    script: Mapping[str, Sequence[str]] | None = None,
    persistent: Mapping[str, str] | None = None,
    retry_after: float | None = None,
    page_size: int | None = None,
    page_sizes: Mapping[str, int] | None = None,
    refuse_scopes: Iterable[str] = (),
    report_lag_days: int = 2,
    partial_report_days: int = 0,
    sign_ins: Sequence[SignIn] | None = None,
    admin: str | None = None,
    timeout_delay: float = 2.0,
    enforce_limits: bool = False,
    quota: tuple[int, float] = (2400, 60.0),
    group_roles: Iterable[str] = (),
    hide_assignments: Iterable[str] = (),
    admin_flags: bool = True,
    nest_groups: bool = False,
    redirect_to: str | None = None,
) -> GoogleSandbox:
    """Serve ``org.truth("google")``. Faults: ``script`` / ``persistent`` per endpoint
    (token, users, orgunits, roles, roleassignments, members, usage, login; see ``Faults``),
    ``retry_after`` seconds on quota errors, ``page_size`` to force paging (``page_sizes``:
    per endpoint), ``refuse_scopes`` (full scope URLs or
    short names) refused at token time as ``unauthorized_client``, ``report_lag_days``
    of the usage report, and ``partial_report_days``: how many of the most recent
    available days answer PARTIAL_DATA_AVAILABLE with half the rows; ``timeout_delay``:
    how long a "timeout" action holds its answer; ``enforce_limits``: the Admin SDK's
    default quota, ``quota`` = (queries, seconds) per API (Directory, Reports).

    Admin roles come from the truth's ``roles``: ``_SEED_ADMIN_ROLE`` is the system super
    admin role, any other name a custom role; one user assignment per (account, role).
    ``group_roles``: role names assigned instead to one group of their holders, whose
    members.list lists them (``nest_groups``: half of them through a nested group, which
    itself holds no role);
    ``hide_assignments``: accounts (ids or e-mails) whose assignments are left out;
    ``admin_flags=False``: users.list flags nobody as an admin."""
    truth = org.truth(SOURCE)
    if admin is None:
        supers = [a.principal for a in truth.accounts if SUPER_ADMIN_ROLE in a.roles and a.enabled]
        admin = supers[0] if supers else f"admin@{DOMAIN}"
    if sign_ins is None:
        sign_ins = truth.sign_ins or derived_sign_ins(truth, org.period_start, org.now)
    refused = frozenset(
        s if s.startswith("https://") else "https://www.googleapis.com/auth/" + s for s in refuse_scopes
    )
    faults = Faults(
        script={k: list(v) for k, v in (script or {}).items()},
        persistent=dict(persistent or {}),
        retry_after=retry_after,
        page_size=page_size,
        page_sizes=dict(page_sizes or {}),
        refuse_scopes=refused,
        redirect_to=redirect_to,
        report_lag_days=report_lag_days,
        partial_report_days=partial_report_days,
        timeout_delay=timeout_delay,
        enforce_limits=enforce_limits,
        quota=quota,
    )
    roles = shapes.role_catalogue(truth, org.role_names.get(SOURCE, {}))
    assignments = shapes.role_assignments(
        truth, roles, org.org_units, group_roles=frozenset(group_roles), hidden=frozenset(hide_assignments)
    )
    groups = shapes.role_groups(truth, roles, assignments, hidden=frozenset(hide_assignments), nest=nest_groups)
    state = State(
        truth,
        org.org_units,
        org.now,
        tuple(sign_ins),
        admin,
        generate_key(),
        faults,
        roles=tuple(roles),
        role_assignments=tuple(assignments),
        admin_flags=admin_flags,
        groups=groups,
    )
    return GoogleSandbox(state)


__all__ = ["KEY_ENV", "GoogleSandbox", "RecordedRequest", "start"]
