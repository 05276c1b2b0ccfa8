"""What ``mfa-audit verify`` found: one line per check, the signature state first.

Every string here may come from the file under examination (names, run id, signer's
subject): lines are neutralised (control and bidi characters shown as ``[U+XXXX]``)
when they are made, so no printing path can forget it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from auditor.text import visible_controls


class SignatureState(Enum):
    TRUSTED = "signed and trusted"
    UNTRUSTED = "signed, signer not trusted"
    UNSIGNED = "unsigned"


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass(frozen=True, slots=True)
class VerifyResult:
    path: Path
    checks: tuple[Check, ...]
    run_id: str | None = None
    signature: SignatureState = SignatureState.UNSIGNED
    signature_detail: str = ""
    attachments: Mapping[str, str] = field(default_factory=dict, hash=False)  # name -> sha256 found

    @property
    def signed(self) -> bool:
        return self.signature is not SignatureState.UNSIGNED

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def failures(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.ok)

    def headline(self) -> str:
        state = self.signature.value.upper()
        if self.signature is SignatureState.UNSIGNED:
            detail = (
                "only internal consistency is proven: anyone can regenerate a consistent document; "
                "a signature says who issued it"
            )
        else:
            detail = self.signature_detail
        return visible_controls(f"{state}: {detail}")

    def lines(self) -> list[str]:
        out = [self.headline(), f"report: {self.path}", f"run id: {self.run_id or '?'}"]
        out += [f"{'ok  ' if c.ok else 'FAIL'} {c.name}" + (f": {c.detail}" if c.detail else "") for c in self.checks]
        out.append("VERIFIED" if self.ok else f"NOT VERIFIED: {len(self.failures)} check(s) failed")
        return [visible_controls(line.replace("\n", " ")) for line in out]

    def to_data(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "run_id": self.run_id,
            "ok": self.ok,
            "signed": self.signed,
            "signature": self.signature.value,
            "signature_detail": self.signature_detail,
            "attachments": dict(self.attachments),
            "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in self.checks],
        }
