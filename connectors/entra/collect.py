"""Kept whole on purpose: the phases of one collection in order, each short; fetching is in
``graph``, parsing in ``parse`` and ``policies``.

One collection of an Entra tenant: the phases in order, each recording what it
could not read as a ``SourceIssue`` (incomplete where coverage would otherwise be
guessed). Fetching lives in ``graph``, parsing in ``parse`` and ``policies``."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from typing import Any

from auditor.interfaces import CollectContext
from auditor.model import (
    Access,
    AccessVia,
    Account,
    AccountId,
    AccountKind,
    Fact,
    FactRead,
    GroupId,
    Method,
    MethodAllowance,
    MethodKind,
    PageDigest,
    Policy,
    PolicyState,
    Portal,
    PortalId,
    RoleId,
    SignIn,
    SourceIssue,
    SourceName,
    SourceSnapshot,
    UnreadableRecord,
)
from connectors.entra import codes, methods_policy, parse, policies
from connectors.entra.graph import BatchResult, ForeignLink, GraphClient, GraphError, Page
from connectors.entra.selection import PortalSelection
from connectors.entra.settings import EntraSettings

CONNECTOR = "entra"
REPORT_PATH = "/reports/authenticationMethods/userRegistrationDetails"



# The listings the operator sees counted (the others are small or per account).
_PROGRESS_KINDS = {"/users": "users", REPORT_PATH: "registration details", "/auditLogs/signIns": "sign-ins"}

class _PhaseFailed(Exception):
    pass


@dataclass
class _State:
    accounts: dict[str, Account] = field(default_factory=dict)
    unreadable: list[UnreadableRecord] = field(default_factory=list)
    roles: dict[str, set[RoleId]] = field(default_factory=lambda: defaultdict(set))
    role_groups: dict[str, set[RoleId]] = field(default_factory=lambda: defaultdict(set))
    methods: dict[str, tuple[Method, ...]] = field(default_factory=dict)
    portals: list[Portal] = field(default_factory=list)
    portal_by_app: dict[str, PortalId] = field(default_factory=dict)
    apps: dict[str, parse.AppInfo] = field(default_factory=dict)
    assignments: list[tuple[PortalId, str, str]] = field(default_factory=list)  # portal, principal type, id
    policies: list[Policy] = field(default_factory=list)
    policy_groups: set[str] = field(default_factory=set)
    members: dict[str, set[str]] = field(default_factory=dict)
    sign_ins: list[SignIn] = field(default_factory=list)
    sign_ins_collected: bool = False
    legacy_blocked: bool | None = None
    method_policy: tuple[MethodAllowance, ...] = ()
    methods_policy_read: bool = False
    expected: dict[str, int] = field(default_factory=dict)


class Collection:
    def __init__(self, settings: EntraSettings, client: GraphClient, ctx: CollectContext) -> None:
        self.s = settings
        self.client = client
        self.ctx = ctx
        self.source = SourceName(ctx.source)
        self.issues: list[SourceIssue] = []
        self.digests: list[PageDigest] = []
        self.st = _State()
        self.failed: dict[str, str] = {}  # phase code → why it failed
        self.sign_in_times_refused = ""

    # --- helpers -------------------------------------------------------------------------

    def issue(self, code: str, message: str, record: str | None = None, *, incomplete: bool = False) -> None:
        self.issues.append(SourceIssue(code, message, record, incomplete))
        log = self.ctx.logger.warning if incomplete else self.ctx.logger.info
        log("entra %s: %s", code, message)

    @contextmanager
    def phase(self, code: str, what: str, *, incomplete: bool = True) -> Iterator[None]:
        try:
            yield
        except ForeignLink as exc:
            # Named on its own: a tenant (or something in between) pointing the token elsewhere.
            self.issue(codes.FOREIGN_LINK, f"{what}: {exc}", incomplete=True)
            self.issue(code, f"{what} could not be read: {exc}", incomplete=incomplete)
            self.failed[code] = f"{what} could not be read: {exc}"
        except GraphError as exc:
            self.issue(code, f"{what} could not be read: {exc}", incomplete=incomplete)
            self.failed[code] = f"{what} could not be read: {exc}"
        except _PhaseFailed:
            self.failed[code] = f"{what} could not be read"

    def pages(
        self, endpoint: str, path: str, params: dict[str, str] | None = None, version: str = "v1.0"
    ) -> Iterator[Page]:
        for page in self.client.pages(path, params, version):
            self.digests.append(PageDigest(endpoint, page.sha256, len(page.items)))
            if endpoint in _PROGRESS_KINDS:
                self.ctx.progress.read(_PROGRESS_KINDS[endpoint], len(page.items))
            yield page

    # --- phases --------------------------------------------------------------------------

    def run(self) -> SourceSnapshot:
        with self.phase(codes.USERS_UNREAD, "accounts (/users)"):
            self.users()
        with self.phase(codes.ROLES_UNREAD, "directory role assignments"):
            self.roles()
        with self.phase(codes.METHODS_UNREAD, "authentication methods"):
            self.methods()
        with self.phase(codes.PORTALS_UNREAD, "enterprise applications and their assignments"):
            self.portals()
        if self.s.portals is not None:
            # Recorded even when the phase failed: the narrowing is a fact of the run either way.
            self._record_selection(self.s.portals)
        with self.phase(codes.POLICIES_UNREAD, "Conditional Access policies"):
            self.conditional_access()
        with self.phase(codes.METHODS_POLICY_UNREAD, "the authentication methods policy", incomplete=False):
            self.methods_policy()
        with self.phase(codes.GROUPS_UNREAD, "group membership"):
            self.groups()
        if self.ctx.collect_sign_ins:
            with self.phase(codes.SIGN_INS_UNREAD, "the sign-in log", incomplete=False):
                self.sign_ins()
        return self.snapshot()

    def users(self) -> None:
        select = list(parse.USER_FIELDS)
        try:
            self._read_users(select)
        except GraphError as exc:
            if exc.status != 403 or self.st.accounts or self.st.unreadable:
                raise
            # signInActivity needs AuditLog.Read.All (and a P1 licence); the rest does not.
            select.remove("signInActivity")
            self.issue(
                codes.LAST_SIGN_IN_UNREAD,
                f"last sign-in (signInActivity) refused ({exc.code}); accounts read without it, dormancy unknown",
            )
            self.sign_in_times_refused = (
                f"last sign-in (signInActivity) refused ({exc.code}): it needs AuditLog.Read.All and a P1 licence"
            )
            self._read_users(select)
        read = len(self.st.accounts) + len(self.st.unreadable)
        expected = self.client.count("/users")
        self.ctx.progress.total("users", expected)
        self.st.expected["accounts"] = expected
        if read < expected:
            self.issue(
                codes.SHORT_READ,
                f"/users returned {read} accounts but $count reports {expected}",
                incomplete=True,
            )

    def _read_users(self, select: list[str]) -> None:
        params = {"$select": ",".join(select), "$top": str(self.s.page_size)}
        odd_types: Counter[str] = Counter()
        for page in self.pages("/users", "/users", params):
            for obj in page.items:
                if not parse.known_user_type(obj.get("userType")):
                    odd_types[str(obj.get("userType"))] += 1
                parsed = parse.parse_user(obj, self.source, self.s.service_prefixes, self.s.service_types)
                if parsed.account is not None:
                    self.st.accounts[parsed.account.id] = parsed.account
                elif parsed.unreadable is not None:
                    self.st.unreadable.append(parsed.unreadable)
        for value, n in sorted(odd_types.items()):
            self.issue(
                codes.USER_TYPE_UNKNOWN,
                f"userType {value!r} is not one Graph documents (Member, Guest): {n} accounts read as members",
                value,
            )

    def roles(self) -> None:
        params = {"$select": "id,principalId,roleDefinitionId,directoryScopeId"}
        for page in self.pages("/roleAssignments", "/roleManagement/directory/roleAssignments", params):
            for item in page.items:
                self._role(item)
        eligible_params = {"$select": "id,principalId,roleDefinitionId,directoryScopeId,status"}
        for page in self.pages(
            "/roleEligibilitySchedules", "/roleManagement/directory/roleEligibilitySchedules", eligible_params
        ):
            for item in page.items:
                # An eligible admin is privileged: activation is one click away.
                if item.get("status") in (None, "Provisioned"):
                    self._role(item)

    def _role(self, item: dict[str, Any]) -> None:
        principal, role = item.get("principalId"), item.get("roleDefinitionId")
        if not isinstance(principal, str) or not isinstance(role, str):
            self.issue(
                codes.ROLE_MALFORMED, f"role assignment {item.get('id')} without principal or role", incomplete=True
            )
            return
        if principal in self.st.accounts:
            self.st.roles[principal].add(RoleId(role))
        else:
            # A role-assignable group (or a service principal): resolved with the groups.
            self.st.role_groups[principal].add(RoleId(role))

    def methods(self) -> None:
        try:
            for page in self.pages(REPORT_PATH, REPORT_PATH):
                for row in page.items:
                    uid = row.get("id")
                    labels = row.get("methodsRegistered")
                    if isinstance(uid, str) and uid in self.st.accounts and isinstance(labels, list):
                        # The account's own kind decides e-mail (guest OTP or member SSPR).
                        guest = self.st.accounts[uid].kind is AccountKind.GUEST
                        self.st.methods[uid] = parse.registered_methods_of(labels, guest)
            missing = [uid for uid in self.st.accounts if uid not in self.st.methods]
            self.issue(codes.METHODS_PATH, "authentication methods read from the registration report")
            if missing:
                self.issue(
                    codes.METHODS_PATH,
                    f"{len(missing)} accounts absent from the registration report: read per user through $batch",
                )
                self._methods_per_user(missing)
        except GraphError as exc:
            if exc.status != 403:
                raise
            self.issue(
                codes.METHODS_PATH,
                f"registration report refused ({exc.code or 'HTTP 403'}: {exc.message}); "
                "authentication methods read per user through $batch",
            )
            self._methods_per_user(list(self.st.accounts))
        self._unknown_methods()

    def _methods_per_user(self, ids: list[str]) -> None:
        paths = {f"/users/{uid}/authentication/methods": uid for uid in ids}
        results = self.client.batch(list(paths))
        failed: Counter[str] = Counter()
        for path, uid in paths.items():
            result = results.get(path, BatchResult(0, None))
            items = self._batch_items(result)
            if items is None:
                failed[f"HTTP {result.status}"] += 1
                continue
            guest = uid in self.st.accounts and self.st.accounts[uid].kind is AccountKind.GUEST
            self.st.methods[uid] = tuple(
                m for o in items for m in parse.method_objects(o, guest) if m.kind is not MethodKind.PASSWORD
            )
        if failed:
            detail = ", ".join(f"{n} × {why}" for why, n in sorted(failed.items()))
            self.issue(
                codes.METHODS_UNREAD,
                f"authentication methods of {sum(failed.values())} accounts: {detail}",
                incomplete=True,
            )

    def _batch_items(self, result: BatchResult) -> list[dict[str, Any]] | None:
        if result.status != 200 or not isinstance(result.body, dict) or not isinstance(result.body.get("value"), list):
            return None
        items = [o for o in result.body["value"] if isinstance(o, dict)]
        nxt = result.body.get("@odata.nextLink")
        if isinstance(nxt, str) and nxt:
            for page in self.client.follow(nxt):
                items.extend(page.items)
        return items

    def _unknown_methods(self) -> None:
        seen: dict[str, list[str]] = defaultdict(list)
        for uid, methods in self.st.methods.items():
            for m in methods:
                if m.kind is MethodKind.UNKNOWN:
                    seen[m.vendor_label].append(uid)
        for label, uids in sorted(seen.items()):
            self.issue(
                codes.UNKNOWN_METHOD,
                f"method {label!r} is not known to the connector: counted as no second factor "
                f"({len(uids)} accounts, e.g. {uids[0]})",
                label,
            )

    def portals(self) -> None:
        selection = self.s.portals
        params = {"$select": ",".join(parse.SERVICE_PRINCIPAL_FIELDS), "$top": str(self.s.page_size)}
        server_filter = selection.server_filter() if selection is not None else None
        if server_filter is not None:
            params["$filter"] = server_filter
        for page in self.pages("/servicePrincipals", "/servicePrincipals", params):
            for obj in page.items:
                portal = parse.parse_service_principal(obj, self.source)
                if portal is None:
                    continue
                # Checked here too when Graph filtered: the selection means the same either way.
                if selection is not None and not selection.selects(obj):
                    continue
                self.st.portals.append(portal)
                if isinstance(obj.get("appId"), str):
                    self.st.portal_by_app[obj["appId"]] = portal.id
                    self.st.apps[obj["appId"]] = parse.app_info(obj, portal)
        for portal in self.st.portals:
            if not portal.assignment_required:
                continue
            path = f"/servicePrincipals/{portal.id}/appRoleAssignedTo"
            params = {"$select": "principalId,principalType", "$top": str(self.s.page_size)}
            for page in self.pages("/appRoleAssignedTo", path, params):
                for item in page.items:
                    ptype, pid = item.get("principalType"), item.get("principalId")
                    if ptype in ("User", "Group") and isinstance(pid, str):
                        self.st.assignments.append((portal.id, str(ptype), pid))

    def _record_selection(self, selection: PortalSelection) -> None:
        """An auditor must see that the scope was narrowed, and by how much: the portals
        kept against the tenant's count of service principals. Not incomplete: what was
        kept was read in full; the configuration chose the rest."""
        kept = len(self.st.portals)
        try:
            total = self.client.count("/servicePrincipals")
        except GraphError as exc:
            of = f"an unknown number of service principals ($count failed: {exc})"
        else:
            self.st.expected["service_principals"] = total
            of = f"{total} service principals"
        self.issue(
            codes.SCOPE_LIMITED,
            f"portals limited by settings.portals: {kept} of {of} became portals; {selection.describe()}. "
            "Coverage of the service principals left out is not audited.",
        )

    def conditional_access(self) -> None:
        names: dict[str, str] = {}
        with self.phase(codes.LOCATIONS_UNREAD, "named locations (conditions name them by id)", incomplete=False):
            for page in self.pages("/namedLocations", "/identity/conditionalAccess/namedLocations"):
                names.update({str(o.get("id")): str(o.get("displayName")) for o in page.items})
        strengths: dict[str, tuple[str, ...]] = {}
        satisfied: dict[str, str] = {}
        with self.phase(codes.STRENGTHS_UNREAD, "authentication strength policies", incomplete=False):
            for page in self.pages("/authenticationStrengthPolicies", "/policies/authenticationStrengthPolicies"):
                for o in page.items:
                    combos = o.get("allowedCombinations")
                    if isinstance(combos, list):
                        strengths[str(o.get("id"))] = tuple(str(c) for c in combos)
                    if isinstance(o.get("requirementsSatisfied"), str):
                        satisfied[str(o.get("id"))] = o["requirementsSatisfied"]
        # B2B collaboration members: userType Member accounts invited from another tenant,
        # whose UPN Entra writes with "#EXT#"; a policy may include or exclude them by type.
        external = tuple(
            AccountId(uid)
            for uid, a in self.st.accounts.items()
            if a.kind is not AccountKind.GUEST and "#ext#" in a.principal
        )
        ctx = policies.MappingContext(self.st.portal_by_app, names, strengths, satisfied, self.st.apps, external)
        legacy = False
        any_enabled = False
        for page in self.pages("/conditionalAccess/policies", "/identity/conditionalAccess/policies"):
            for raw in page.items:
                mapped = policies.map_ca_policy(raw, ctx)
                self.st.policies.append(mapped.policy)
                self.st.policy_groups.update(mapped.named_groups)
                for issue in mapped.issues:
                    self.issue(issue.code, issue.message, issue.record, incomplete=issue.incomplete)
                legacy = legacy or policies.blocks_legacy_auth(raw)
                any_enabled = any_enabled or mapped.policy.state is PolicyState.ENFORCED
        self.st.legacy_blocked = legacy
        try:
            defaults = self.client.get("/policies/identitySecurityDefaultsEnforcementPolicy")
        except GraphError as exc:
            # Security defaults and Conditional Access exclude each other: with an enabled
            # CA policy, defaults are off and not knowing them changes nothing.
            self.issue(
                codes.SECURITY_DEFAULTS_UNREAD,
                f"security defaults could not be read: {exc}",
                incomplete=not any_enabled,
            )
            if not any_enabled:
                self.st.legacy_blocked = None
        else:
            if isinstance(defaults, dict) and defaults.get("isEnabled") is True:
                self.st.policies.append(policies.security_defaults_policy(self.st.portal_by_app))
                self.st.legacy_blocked = True  # security defaults block legacy authentication
        if self.s.per_user_mfa:
            with self.phase(codes.PER_USER_MFA_UNREAD, "per-user MFA state (beta)", incomplete=False):
                self._per_user_mfa()

    def methods_policy(self) -> None:
        """Which methods the tenant allows, and to whom (Policy.Read.All, as for CA)."""
        raw = self.client.get(methods_policy.PATH)
        if not isinstance(raw, dict):
            raise _PhaseFailed
        read = methods_policy.parse_methods_policy(raw)
        for issue in read.issues:
            self.issue(issue.code, issue.message, issue.record)
        self.st.method_policy = read.allowances
        self.st.policy_groups.update(read.groups)
        if read.complete:
            self.st.methods_policy_read = True
        else:
            self.failed[codes.METHODS_POLICY_UNREAD] = read.reason
            self.issue(codes.METHODS_POLICY_PARTIAL, read.reason)

    def _per_user_mfa(self) -> None:
        paths = {f"/users/{uid}/authentication/requirements": uid for uid in self.st.accounts}
        results = self.client.batch(list(paths), version="beta")
        states: dict[str, str] = {}
        failed = 0
        for path, uid in paths.items():
            r = results.get(path)
            if r is not None and r.status == 200 and isinstance(r.body, dict):
                states[uid] = str(r.body.get("perUserMfaState", ""))
            else:
                failed += 1
        if failed:
            self.issue(codes.PER_USER_MFA_UNREAD, f"per-user MFA state of {failed} accounts could not be read")
        for value, n in sorted(policies.unknown_per_user_states(states).items()):
            self.issue(
                codes.PER_USER_MFA_STATE,
                f"per-user MFA state {value!r} is not one Graph documents: {n} accounts not counted as required "
                "to do MFA by it",
                value,
            )
        policy = policies.per_user_mfa_policy(states)
        if policy is not None:
            self.st.policies.append(policy)

    def groups(self) -> None:
        named = {ref for _, ptype, ref in self.st.assignments if ptype == "Group"} | self.st.policy_groups
        for gid in sorted(named | set(self.st.role_groups)):
            members: set[str] = set()
            try:
                params = {"$select": "id", "$top": str(self.s.page_size)}
                for page in self.pages("/transitiveMembers", f"/groups/{gid}/transitiveMembers", params):
                    members.update(
                        str(o["id"])
                        for o in page.items
                        if o.get("@odata.type") == "#microsoft.graph.user" and isinstance(o.get("id"), str)
                    )
            except GraphError as exc:
                if exc.status != 404:
                    raise
                if gid in named:
                    self.issue(
                        codes.GROUP_MISSING, f"group {gid} is named by an assignment or policy but does not exist", gid
                    )
                continue  # a role holder that is not a group: a service principal, not an account
            self.st.members[gid] = members
            for uid in members:
                for role in self.st.role_groups.get(gid, ()):
                    self.st.roles[uid].add(role)

    def sign_ins(self) -> None:
        start = datetime.combine(self.ctx.period_start, time(0), UTC)
        end = datetime.combine(self.ctx.period_end + timedelta(days=1), time(0), UTC)
        flt = f"createdDateTime ge {start:%Y-%m-%dT%H:%M:%SZ} and createdDateTime lt {end:%Y-%m-%dT%H:%M:%SZ}"
        no_factor = 0
        # authenticationRequirement (single / multi factor) is documented on beta only.
        for page in self.pages("/auditLogs/signIns", "/auditLogs/signIns", {"$filter": flt, "$top": "1000"}, "beta"):
            for obj in page.items:
                sign_in = parse.parse_sign_in(obj, self.st.portal_by_app, self.st.accounts)
                if sign_in is not None:
                    self.st.sign_ins.append(sign_in)
                elif obj.get("authenticationRequirement") is None and obj.get("appId") in self.st.portal_by_app:
                    no_factor += 1
        if no_factor:
            self.issue(
                codes.SIGN_IN_FACTOR_MISSING, f"{no_factor} sign-ins do not state their authentication requirement"
            )
        self.st.sign_ins.sort(key=lambda s: (s.time, s.account_id))
        self.st.sign_ins_collected = True

    # --- assembly ------------------------------------------------------------------------

    def snapshot(self) -> SourceSnapshot:
        st = self.st
        accounts = []
        for uid, account in st.accounts.items():
            roles = tuple(sorted(st.roles.get(uid, ())))
            groups = tuple(GroupId(g) for g in sorted(g for g, m in st.members.items() if uid in m))
            accounts.append(
                replace(
                    account,
                    roles=roles,
                    privileged=bool(roles),
                    groups=groups,
                    methods=st.methods.get(uid, ()),
                )
            )
        access = self._access(accounts)
        complete = not any(i.incomplete for i in self.issues)
        return SourceSnapshot(
            source=self.source,
            connector=CONNECTOR,
            collected_at=self.ctx.now,
            complete=complete,
            accounts=tuple(accounts),
            portals=tuple(st.portals),
            access=access,
            policies=tuple(st.policies),
            sign_ins=tuple(st.sign_ins),
            issues=tuple(self.issues),
            unreadable=tuple(st.unreadable),
            expected_counts=dict(st.expected),
            raw_digests=tuple(self.digests),
            legacy_auth_blocked=st.legacy_blocked,
            sign_ins_collected=st.sign_ins_collected,
            facts=self._facts(),
            method_policy=st.method_policy,
        )

    def _facts(self) -> tuple[FactRead, ...]:
        """What this collection read, and for each fact it did not, why."""

        def by_phase(fact: Fact, *codes: str) -> FactRead:
            for code in codes:
                if code in self.failed:
                    return FactRead(fact, False, self.failed[code])
            return FactRead(fact, True)

        out = [
            by_phase(Fact.ACCOUNTS, codes.USERS_UNREAD),
            by_phase(Fact.METHODS, codes.USERS_UNREAD, codes.METHODS_UNREAD),
            by_phase(Fact.POLICIES, codes.POLICIES_UNREAD),
            by_phase(Fact.ROLES, codes.USERS_UNREAD, codes.ROLES_UNREAD, codes.GROUPS_UNREAD),
            by_phase(Fact.ACCESS, codes.PORTALS_UNREAD, codes.GROUPS_UNREAD),
        ]
        if self.st.methods_policy_read:
            out.append(FactRead(Fact.METHODS_POLICY, True))
        else:
            out.append(
                FactRead(
                    Fact.METHODS_POLICY,
                    False,
                    self.failed.get(codes.METHODS_POLICY_UNREAD, "the authentication methods policy was not read"),
                )
            )
        if codes.USERS_UNREAD in self.failed:
            out.append(FactRead(Fact.SIGN_IN_TIMES, False, self.failed[codes.USERS_UNREAD]))
        elif self.sign_in_times_refused:
            out.append(FactRead(Fact.SIGN_IN_TIMES, False, self.sign_in_times_refused))
        else:
            out.append(FactRead(Fact.SIGN_IN_TIMES, True))
        if self.st.sign_ins_collected:
            out.append(FactRead(Fact.SIGN_IN_LOG, True))
        elif not self.ctx.collect_sign_ins:
            out.append(FactRead(Fact.SIGN_IN_LOG, False, "the sign-in log was not requested for this run"))
        else:
            out.append(
                FactRead(
                    Fact.SIGN_IN_LOG, False, self.failed.get(codes.SIGN_INS_UNREAD, "the sign-in log was not read")
                )
            )
        if self.st.legacy_blocked is None:
            out.append(
                FactRead(
                    Fact.LEGACY_AUTH,
                    False,
                    self.failed.get(
                        codes.POLICIES_UNREAD, "security defaults could not be read and no CA policy is enabled"
                    ),
                )
            )
        else:
            out.append(FactRead(Fact.LEGACY_AUTH, True))
        return tuple(out)

    def _access(self, accounts: list[Account]) -> tuple[Access, ...]:
        out: dict[tuple[str, str, AccessVia, str | None], Access] = {}
        by_id = {a.id: a for a in accounts}
        for portal in self.st.portals:
            if not portal.assignment_required:
                # Any member can sign in. Service accounts do not sign in interactively.
                for a in accounts:
                    if a.kind is not AccountKind.SERVICE:
                        out[(a.id, portal.id, AccessVia.EVERYONE, None)] = Access(a.id, portal.id, AccessVia.EVERYONE)
        for portal_id, ptype, ref in self.st.assignments:
            if ptype == "User":
                if ref in by_id:
                    out[(ref, portal_id, AccessVia.DIRECT, None)] = Access(AccountId(ref), portal_id, AccessVia.DIRECT)
                continue
            for uid in sorted(self.st.members.get(ref, ())):
                if uid in by_id:
                    out[(uid, portal_id, AccessVia.GROUP, ref)] = Access(
                        AccountId(uid), portal_id, AccessVia.GROUP, ref
                    )
        return tuple(out.values())
