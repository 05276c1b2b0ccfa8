"""mfa-auditor: which accounts can reach sensitive data without a second factor."""

__version__ = "0.1.0"
