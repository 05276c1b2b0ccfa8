"""`python -m auditor`: the same as the `mfa-audit` command."""

from auditor.cli import main

main()
