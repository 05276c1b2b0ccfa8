"""The Entra connector's issue codes, ``entra.<code>``: one constant each, so a code is
written once and a test or the docs can name it. ``SourceIssue.code`` carries these."""

from __future__ import annotations

from auditor.model import SCOPE_LIMITED as _SCOPE_LIMITED

# A listing that could not be read (the phase's code).
USERS_UNREAD = "entra.users_unread"
ROLES_UNREAD = "entra.roles_unread"
METHODS_UNREAD = "entra.methods_unread"
PORTALS_UNREAD = "entra.portals_unread"
POLICIES_UNREAD = "entra.policies_unread"
GROUPS_UNREAD = "entra.groups_unread"
SIGN_INS_UNREAD = "entra.sign_ins_unread"
LOCATIONS_UNREAD = "entra.locations_unread"
STRENGTHS_UNREAD = "entra.strengths_unread"
PER_USER_MFA_UNREAD = "entra.per_user_mfa_unread"
SECURITY_DEFAULTS_UNREAD = "entra.security_defaults_unread"
LAST_SIGN_IN_UNREAD = "entra.last_sign_in_unread"

# What was read, but not whole or not as expected.
SHORT_READ = "entra.short_read"
ROLE_MALFORMED = "entra.role_malformed"
METHODS_PATH = "entra.methods_path"
UNKNOWN_METHOD = "entra.unknown_method"
GROUP_MISSING = "entra.group_missing"
SIGN_IN_FACTOR_MISSING = "entra.sign_in_factor_missing"
APP_GROUP_UNDECIDED = "entra.app_group_undecided"

# Conditional Access policies the mapping cannot take at face value.
CA_GUEST_TENANTS = "entra.ca_guest_tenants"
CA_STATE = "entra.ca_state"
CA_STRENGTH_COMBINATION = "entra.ca_strength_combination"
CA_STRENGTH_UNKNOWN = "entra.ca_strength_unknown"
CA_GUEST_TYPES = "entra.ca_guest_types"  # one guest subtype only: guests not counted as covered
CA_UNKNOWN_VALUE = "entra.ca_unknown_value"  # a control, client app or guest type not documented

# The tenant's authentication methods policy.
METHODS_POLICY_UNREAD = "entra.methods_policy_unread"
METHODS_POLICY_PARTIAL = "entra.methods_policy_partial"
METHODS_POLICY_STATE = "entra.methods_policy_state"
METHODS_POLICY_UNKNOWN = "entra.methods_policy_unknown"
METHODS_POLICY_TARGET = "entra.methods_policy_target"
METHODS_POLICY_OFFICE_PHONE = "entra.methods_policy_office_phone"  # office phones disallowed: not expressible
METHODS_POLICY_KEY_RESTRICTIONS = "entra.methods_policy_key_restrictions"  # key models not read
USER_TYPE_UNKNOWN = "entra.user_type_unknown"
PER_USER_MFA_STATE = "entra.per_user_mfa_state"

# The connector read less than the whole tenant by configuration (a scope), not by failure.
SCOPE_LIMITED = f"entra.{_SCOPE_LIMITED}"
FOREIGN_LINK = "entra.foreign_link"  # a next link or redirect off graph_root: not followed
