"""Pure parsing: Graph JSON objects → the normalised model. No I/O here; every
function is table-tested. Vendor vocabulary ends in this module and ``policies``."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from auditor.model import (
    Account,
    AccountId,
    AccountKind,
    Method,
    MethodKind,
    MethodStatus,
    Portal,
    PortalId,
    SignIn,
    SignInFactor,
    SourceName,
    UnreadableRecord,
)

# ``methodsRegistered`` values of the registration report. The list is open-ended
# (Microsoft adds values): anything else becomes ``unknown`` with an issue.
REGISTERED_METHODS: Mapping[str, MethodKind] = {
    # A member's e-mail is a self-service password reset method; Entra offers e-mail
    # one-time passcode at sign-in to guests (B2B / external users) only. See
    # ``email_kind``.
    "email": MethodKind.RECOVERY_EMAIL,
    # A mobile phone: SMS here, and voice too (``BOTH_SMS_AND_VOICE``).
    "mobilePhone": MethodKind.SMS,
    "alternateMobilePhone": MethodKind.VOICE,  # voice calls only
    "officePhone": MethodKind.VOICE,
    "securityQuestion": MethodKind.SECURITY_QUESTION,
    "microsoftAuthenticatorPush": MethodKind.AUTHENTICATOR_PUSH,
    "microsoftAuthenticatorPasswordless": MethodKind.AUTHENTICATOR_PASSWORDLESS,
    "softwareOneTimePasscode": MethodKind.TOTP_SOFTWARE,
    "hardwareOneTimePasscode": MethodKind.HARDWARE_OTP,
    "fido2SecurityKey": MethodKind.FIDO2_SECURITY_KEY,
    # The v1.0 resource page's own example value ("such as mobilePhone, email, fido2").
    "fido2": MethodKind.FIDO2_SECURITY_KEY,
    "windowsHelloForBusiness": MethodKind.WINDOWS_HELLO,
    "passKeyDeviceBound": MethodKind.PASSKEY,
    "passKeyDeviceBoundAuthenticator": MethodKind.PASSKEY,
    "passKeyDeviceBoundWindowsHello": MethodKind.PASSKEY,
    "passKeySynced": MethodKind.PASSKEY,
    "macOsSecureEnclaveKey": MethodKind.PLATFORM_AUTHENTICATOR,
    "platformCredential": MethodKind.PLATFORM_AUTHENTICATOR,
    "temporaryAccessPass": MethodKind.TEMPORARY_ACCESS_PASS,
    # An external authentication method (EAM): a second factor Entra cannot describe.
    "externalAuthMethod": MethodKind.UNSPECIFIED_SECOND_FACTOR,
    # The other members of the same evolvable enum (usageAuthMethod, beta), which
    # registration and usage reports may carry.
    "sms": MethodKind.SMS,
    "mobileSMS": MethodKind.SMS,
    "mobileCall": MethodKind.VOICE,
    "alternateMobileCall": MethodKind.VOICE,
    "appNotification": MethodKind.AUTHENTICATOR_PUSH,
    "appCode": MethodKind.TOTP_SOFTWARE,  # a code from the Authenticator app
    "oneTimePasscode": MethodKind.TOTP_SOFTWARE,  # an OATH code, software or hardware: strong either way
    "fido": MethodKind.FIDO2_SECURITY_KEY,
    "appPassword": MethodKind.PASSWORD,  # a password for legacy clients: no second factor
    "qrCode": MethodKind.PASSWORD,  # QR code + PIN: a first factor for frontline workers
}

_TYPE_PREFIX = "#microsoft.graph."

# ``@odata.type`` of ``/users/{id}/authentication/methods`` → (kind, the report's label).
# Normalising to the report's vocabulary makes the two paths give the same methods.
METHOD_TYPES: Mapping[str, tuple[MethodKind, str]] = {
    "passwordAuthenticationMethod": (MethodKind.PASSWORD, "password"),
    "emailAuthenticationMethod": (MethodKind.RECOVERY_EMAIL, "email"),
    "microsoftAuthenticatorAuthenticationMethod": (MethodKind.AUTHENTICATOR_PUSH, "microsoftAuthenticatorPush"),
    "passwordlessMicrosoftAuthenticatorAuthenticationMethod": (
        MethodKind.AUTHENTICATOR_PASSWORDLESS,
        "microsoftAuthenticatorPasswordless",
    ),
    "softwareOathAuthenticationMethod": (MethodKind.TOTP_SOFTWARE, "softwareOneTimePasscode"),
    "hardwareOathAuthenticationMethod": (MethodKind.HARDWARE_OTP, "hardwareOneTimePasscode"),
    "fido2AuthenticationMethod": (MethodKind.FIDO2_SECURITY_KEY, "fido2SecurityKey"),
    "windowsHelloForBusinessAuthenticationMethod": (MethodKind.WINDOWS_HELLO, "windowsHelloForBusiness"),
    "temporaryAccessPassAuthenticationMethod": (MethodKind.TEMPORARY_ACCESS_PASS, "temporaryAccessPass"),
    "platformCredentialAuthenticationMethod": (MethodKind.PLATFORM_AUTHENTICATOR, "platformCredential"),
    "externalAuthenticationMethod": (MethodKind.UNSPECIFIED_SECOND_FACTOR, "externalAuthMethod"),
    # QR code + PIN is a first factor for frontline workers, not a second one.
    "qrCodePinAuthenticationMethod": (MethodKind.PASSWORD, "qrCode"),
}
_PHONE_TYPES: Mapping[str, tuple[MethodKind, str]] = {
    "mobile": (MethodKind.SMS, "mobilePhone"),
    "alternateMobile": (MethodKind.VOICE, "alternateMobilePhone"),
    "office": (MethodKind.VOICE, "officePhone"),
}

_FRACTION = re.compile(r"\.(\d{6})\d+")


def parse_datetime(value: object) -> datetime | None:
    """Graph timestamps (``2023-03-13T19:15:41.6195833Z``: up to 7 fractional digits)."""
    if not isinstance(value, str) or not value:
        return None
    text = _FRACTION.sub(r".\1", value.replace("Z", "+00:00"))
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def email_kind(guest: bool) -> MethodKind:
    """E-mail is a sign-in factor (one-time passcode) for guests and external users, as
    Microsoft documents it; for members it only resets a password."""
    return MethodKind.EMAIL_OTP if guest else MethodKind.RECOVERY_EMAIL


def registered_method(label: str, guest: bool = False) -> Method:
    """A ``methodsRegistered`` value; unknown values keep their label as ``unknown``."""
    kind = email_kind(guest) if label == "email" else REGISTERED_METHODS.get(label, MethodKind.UNKNOWN)
    return Method(kind, label, MethodStatus.ACTIVE, None)


# A mobile phone takes SMS codes and voice calls (Graph: "phone (usable via SMS or voice
# call)"), each allowed by its own configuration of the methods policy: it is both
# methods. Alternate mobile and office phones take voice calls only.
BOTH_SMS_AND_VOICE = frozenset({"mobilePhone"})


def registered_methods_of(labels: Iterable[object], guest: bool = False) -> tuple[Method, ...]:
    """The methods of ``methodsRegistered`` labels; a mobile phone is SMS and voice."""
    out: list[Method] = []
    for x in labels:
        label = str(x)
        out.append(registered_method(label, guest))
        if label in BOTH_SMS_AND_VOICE:
            out.append(Method(MethodKind.VOICE, label, MethodStatus.ACTIVE, None))
    return tuple(out)


def registered_methods(row: Mapping[str, Any]) -> tuple[Method, ...]:
    """The methods of one ``userRegistrationDetails`` row (its ``userType`` decides e-mail)."""
    labels = row.get("methodsRegistered")
    if not isinstance(labels, list):
        return ()
    guest = str(row.get("userType", "")).casefold() == "guest"
    return registered_methods_of(labels, guest)


def method_object(obj: Mapping[str, Any], guest: bool = False) -> Method:
    """One item of ``/users/{id}/authentication/methods``."""
    odata = str(obj.get("@odata.type", ""))
    name = odata.removeprefix(_TYPE_PREFIX)
    created = parse_datetime(obj.get("createdDateTime"))
    if name == "phoneAuthenticationMethod":
        phone_type = str(obj.get("phoneType"))
        # A phone type Microsoft adds later is named, never taken for a mobile phone.
        kind, label = _PHONE_TYPES.get(phone_type, (MethodKind.UNKNOWN, f"phone (phoneType {phone_type})"))
    elif name == "emailAuthenticationMethod":
        kind, label = email_kind(guest), "email"
    elif name == "fido2AuthenticationMethod" and obj.get("passkeyType") in ("deviceBound", "synced"):
        kind, label = (
            MethodKind.PASSKEY,
            "passKeyDeviceBound" if obj["passkeyType"] == "deviceBound" else "passKeySynced",
        )
    elif name in METHOD_TYPES:
        kind, label = METHOD_TYPES[name]
    else:
        kind, label = MethodKind.UNKNOWN, name or "(no @odata.type)"
    return Method(kind, label, MethodStatus.ACTIVE, created)


def method_objects(obj: Mapping[str, Any], guest: bool = False) -> tuple[Method, ...]:
    """The methods one item of ``/users/{id}/authentication/methods`` gives: a mobile
    phone is SMS and voice, as in ``registered_methods_of``."""
    method = method_object(obj, guest)
    if method.vendor_label in BOTH_SMS_AND_VOICE and method.kind is MethodKind.SMS:
        return method, Method(MethodKind.VOICE, method.vendor_label, method.status, method.registered_at)
    return (method,)


def is_known_method(method: Method) -> bool:
    return method.kind is not MethodKind.UNKNOWN


USER_FIELDS = (
    "id",
    "userPrincipalName",
    "displayName",
    "accountEnabled",
    "userType",
    "createdDateTime",
    "signInActivity",
    "onPremisesSyncEnabled",
    "department",
    "employeeType",
)


# ``userType`` of a user (``None`` on some older accounts, read as a member).
USER_TYPES = frozenset({"Member", "Guest"})


def known_user_type(value: object) -> bool:
    """Whether a ``userType`` is one Graph documents (or absent): anything else is read
    as a member (an account in scope) and named by the collector."""
    return value is None or value in USER_TYPES


@dataclass(frozen=True, slots=True)
class ParsedUser:
    account: Account | None
    unreadable: UnreadableRecord | None


def parse_user(
    obj: Mapping[str, Any],
    source: SourceName,
    service_prefixes: tuple[str, ...],
    service_types: tuple[str, ...] = ("service",),
) -> ParsedUser:
    """A ``/users`` item (without methods, roles and groups: those come later).

    Account kind: ``userType`` Guest → guest; ``employeeType`` one of ``service_types``
    (default ``service``) or a principal starting with one of ``service_prefixes``
    (default ``svc-``) → service; otherwise human. Entra has no flag for service
    accounts, so these conventions are the documented rule (both configurable).
    """
    uid = obj.get("id")
    upn = obj.get("userPrincipalName")
    if not isinstance(uid, str) or not uid:
        return ParsedUser(None, UnreadableRecord(repr(upn) if upn else "(user without id)", "no id"))
    if not isinstance(upn, str) or not upn:
        return ParsedUser(None, UnreadableRecord(uid, "no userPrincipalName"))
    enabled = obj.get("accountEnabled")
    if not isinstance(enabled, bool):
        # Unknown is never assumed: an account whose state we cannot tell is not evaluated.
        return ParsedUser(None, UnreadableRecord(uid, "accountEnabled missing"))
    principal = upn.casefold()
    if str(obj.get("userType", "")).casefold() == "guest":
        kind = AccountKind.GUEST
    elif principal.startswith(service_prefixes) or str(obj.get("employeeType") or "").casefold() in service_types:
        kind = AccountKind.SERVICE
    else:
        kind = AccountKind.HUMAN
    activity = obj.get("signInActivity")
    last = parse_datetime(activity.get("lastSignInDateTime")) if isinstance(activity, dict) else None
    attributes: dict[str, str] = {}
    if isinstance(obj.get("department"), str) and obj["department"]:
        attributes["department"] = obj["department"]
    if isinstance(obj.get("employeeType"), str) and obj["employeeType"]:
        attributes["employment"] = obj["employeeType"]
    if obj.get("onPremisesSyncEnabled") is True:
        attributes["on_premises_sync"] = "true"
    account = Account(
        source=source,
        id=AccountId(uid),
        principal=principal,
        display_name=str(obj.get("displayName") or principal),
        kind=kind,
        enabled=enabled,
        last_sign_in=last,
        created=parse_datetime(obj.get("createdDateTime")),
        attributes=attributes,
    )
    return ParsedUser(account, None)


SERVICE_PRINCIPAL_FIELDS = (
    "id",
    "appId",
    "displayName",
    "appRoleAssignmentRequired",
    "accountEnabled",
    "servicePrincipalType",
    "tags",
    "appOwnerOrganizationId",
)


@dataclass(frozen=True, slots=True)
class AppInfo:
    """What decides an app's membership of a Conditional Access app group (Office365):
    its portal, display name and owning tenant (None when not read)."""

    portal: PortalId
    name: str
    owner: str | None


def app_info(obj: Mapping[str, Any], portal: Portal) -> AppInfo:
    owner = obj.get("appOwnerOrganizationId")
    return AppInfo(portal.id, str(obj.get("displayName") or ""), owner if isinstance(owner, str) and owner else None)


def parse_service_principal(obj: Mapping[str, Any], source: SourceName) -> Portal | None:
    """A portal, or None for what users cannot sign in to (managed identities, legacy
    service principals, disabled apps)."""
    if obj.get("servicePrincipalType", "Application") != "Application" or obj.get("accountEnabled") is False:
        return None
    sid = obj.get("id")
    if not isinstance(sid, str) or not sid:
        return None
    tags = obj.get("tags")
    return Portal(
        source=source,
        id=PortalId(sid),
        name=str(obj.get("displayName") or sid),
        # Absent means false in Graph: every member of the tenant can sign in.
        assignment_required=obj.get("appRoleAssignmentRequired") is True,
        tags=tuple(str(t) for t in tags) if isinstance(tags, list) else (),
    )


_FACTORS = {
    "multiFactorAuthentication": SignInFactor.MULTI,
    "singleFactorAuthentication": SignInFactor.SINGLE,
}
_CLIENT_APPS = {"browser": "browser", "mobile apps and desktop clients": "mobile_desktop"}


def parse_sign_in(
    obj: Mapping[str, Any], portal_by_app: Mapping[str, PortalId], accounts: Mapping[str, object]
) -> SignIn | None:
    """A successful sign-in of a known account to a known portal; None otherwise."""
    status = obj.get("status")
    if isinstance(status, dict) and status.get("errorCode") not in (0, None):
        return None  # a failed attempt gave no access
    uid, app = obj.get("userId"), obj.get("appId")
    when = parse_datetime(obj.get("createdDateTime"))
    if not isinstance(uid, str) or uid not in accounts or not isinstance(app, str) or when is None:
        return None
    portal = portal_by_app.get(app)
    if portal is None:
        return None
    factor = _FACTORS.get(str(obj.get("authenticationRequirement")))
    if factor is None:
        return None  # the factor is not stated: evidence we cannot use (counted by the collector)
    raw_client = str(obj.get("clientAppUsed") or "")
    client = _CLIENT_APPS.get(raw_client.casefold(), raw_client.casefold().replace(" ", "_"))
    return SignIn(AccountId(uid), portal, when, factor, client)
