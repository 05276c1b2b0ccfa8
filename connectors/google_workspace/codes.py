"""The Google Workspace connector's issue codes, ``google.<code>``: one constant each, so a code
is written once and tests and docs can name it. ``SourceIssue.code`` carries these."""

ADMIN_FLAG_WITHOUT_ROLE = "google.admin_flag_without_role"
DELEGATED_FLAG_WITHOUT_ROLE = "google.delegated_flag_without_role"
LOGIN_AUDIT = "google.login_audit"  # also the prefix of the login-audit codes
LOGIN_AUDIT_INCOMPLETE = "google.login_audit_incomplete"
LOGIN_AUDIT_REFUSED = "google.login_audit_refused"
LOGIN_EVENT_UNREADABLE = "google.login_event_unreadable"
LOGIN_UNKNOWN_ACTOR = "google.login_unknown_actor"
ORG_UNITS_UNREADABLE = "google.org_units_unreadable"
ROLE_ASSIGNEE_UNKNOWN = "google.role_assignee_unknown"
ROLE_GROUP_MEMBER_UNKNOWN = "google.role_group_member_unknown"
ROLE_GROUP_UNEXPANDED = "google.role_group_unexpanded"
ROLE_UNKNOWN = "google.role_unknown"
ROLES_REFUSED = "google.roles_refused"
ROLES_UNREADABLE = "google.roles_unreadable"
UNKNOWN_CHALLENGE_METHOD = "google.unknown_challenge_method"
UNKNOWN_LOGIN_TYPE = "google.unknown_login_type"
SIGN_IN_FACTOR_UNSTATED = "google.sign_in_factor_unstated"  # e.g. SAML: factors at the identity provider
USAGE_REPORT_LAG = "google.usage_report_lag"
USAGE_REPORT_MISSING_USERS = "google.usage_report_missing_users"
OTHER_2SV_METHODS = "google.2sv_other_methods"  # key holders may also use the 2SV methods no API names
USAGE_REPORT_PARTIAL = "google.usage_report_partial"
USAGE_REPORT_UNAVAILABLE = "google.usage_report_unavailable"
USAGE_REPORT_UNREADABLE = "google.usage_report_unreadable"
USAGE_ROW_UNREADABLE = "google.usage_row_unreadable"
USERS_INCOMPLETE = "google.users_incomplete"
USERS_SHORT_READ = "google.users_short_read"
FOREIGN_LINK = "google.foreign_link"  # a redirect: never followed
