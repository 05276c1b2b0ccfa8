"""The file connector's issue codes, ``file.<code>``: one constant each, so a code
is written once and tests and docs can name it. ``SourceIssue.code`` carries these."""

NO_SIGN_INS = "file.no_sign_ins"
