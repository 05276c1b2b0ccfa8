"""``mfa-audit serve``: a local, read-only web view of the evidence store."""
