"""Every kind of bad CSV row gives an InputDataError naming file, line, column and the
expectation; nothing is skipped."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from auditor.interfaces import CollectContext, InputDataError
from connectors.file import FileConnector

Ctx = Callable[..., CollectContext]
HEADER = "id,principal,name,kind,enabled,privileged,last_sign_in,methods,portals,groups,enforcement"
GOOD = "u1,ada@example.org,Ada,human,true,false,2026-11-02T08:15:00Z,sms;totp_software:pending,crm,g1,mfa"


def read(tmp_path: Path, make_ctx: Ctx, text: str, **settings: object) -> str:
    (tmp_path / "hr.csv").write_text(text, encoding="utf-8")
    connector = FileConnector("hr-export", {"path": "hr.csv", **settings}, tmp_path)
    with pytest.raises(InputDataError) as info:
        connector.collect(make_ctx())
    return str(info.value)


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            "u2,bob@x,Bob,robot,true,false,,,,,none",
            "hr.csv:3: column 4 (kind): expected an account kind: one of human, guest, service, got 'robot'",
        ),
        (
            "u2,bob@x,Bob,human,yes,false,,,,,none",
            "hr.csv:3: column 5 (enabled): expected true or false: one of true, false, got 'yes'",
        ),
        (
            "u2,bob@x,Bob,human,true,false,last week,,,,none",
            "hr.csv:3: column 7 (last_sign_in): expected an ISO 8601 date-time such as 2026-11-02T08:15:00Z, "
            "got 'last week'",
        ),
        (
            "u2,bob@x,Bob,human,true,false,2026-11-02T08:15:00,,,,none",
            "hr.csv:3: column 7 (last_sign_in): expected a date-time with its time zone (Z or +01:00)",
        ),
        (
            "u2,bob@x,Bob,human,true,false,,sms;yubikey,,,none",
            "hr.csv:3: column 8 (methods): unknown method 'yubikey': expected one of fido2_security_key, passkey,",
        ),
        (
            "u2,bob@x,Bob,human,true,false,,sms:revoked,,,none",
            "hr.csv:3: column 8 (methods): method 'sms': unknown status 'revoked', expected one of active, pending",
        ),
        (
            "u2,bob@x,Bob,human,true,false,,,,,required",
            "hr.csv:3: column 11 (enforcement): expected the enforcement: one of none, mfa, strong, "
            "phishing_resistant, block, got 'required'",
        ),
        (
            "u1,bob@x,Bob,human,true,false,,,,,none",
            "hr.csv:3: column 1 (id): duplicate account id 'u1' (first on line 2)",
        ),
        (
            ",bob@x,Bob,human,true,false,,,,,none",
            "hr.csv:3: column 1 (id): expected the account's id, got an empty cell",
        ),
        (
            "u2, ,Bob,human,true,false,,,,,none",
            "hr.csv:3: column 2 (principal): expected the principal (UPN, login or e-mail), got an empty cell",
        ),
        ("u2,bob@x,Bob,human,true", "hr.csv:3: expected 11 cells as in the header, got 5"),
    ],
)
def test_bad_row(tmp_path: Path, make_ctx: Ctx, row: str, expected: str) -> None:
    message = read(tmp_path, make_ctx, f"{HEADER}\n{GOOD}\n{row}\n")
    assert expected in message
    assert message.startswith(str(tmp_path / "hr.csv"))


def test_every_bad_row_is_listed(tmp_path: Path, make_ctx: Ctx) -> None:
    rows = "\n".join(f"u{i},p{i}@x,P,human,maybe,false,,,,,none" for i in range(30))
    message = read(tmp_path, make_ctx, f"{HEADER}\n{rows}\n")
    lines = message.splitlines()
    assert len(lines) == 21 and lines[-1] == "… and 10 more problems"
    assert "hr.csv:2: column 5 (enabled)" in lines[0] and "hr.csv:21: column 5 (enabled)" in lines[19]


def test_line_numbers_follow_quoted_newlines_and_blank_lines(tmp_path: Path, make_ctx: Ctx) -> None:
    text = f'{HEADER}\nu1,a@x,"Ada\nLovelace",human,true,false,,,,,none\n\nu2,b@x,B,human,true,false,,,,,never\n'
    assert "hr.csv:5: column 11 (enforcement)" in read(tmp_path, make_ctx, text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "hr.csv:1: expected a header line naming the columns: id, principal, name"),
        ("id,principal,name\nu1,a@x,A\n", "hr.csv:1: missing required column(s): kind, enabled, privileged"),
        (HEADER + ",colour\n", "hr.csv:1: column 12 (colour): unknown column 'colour': expected one of id,"),
        (HEADER + ",id\n", "hr.csv:1: column 12 (id): duplicate column 'id' (also column 1)"),
        (f'{HEADER}\nu1,"a@x,A,human\n', "not valid CSV: unexpected end of data"),
    ],
)
def test_bad_header_or_structure(tmp_path: Path, make_ctx: Ctx, text: str, expected: str) -> None:
    assert expected in read(tmp_path, make_ctx, text)


def test_portal_not_in_the_settings_list(tmp_path: Path, make_ctx: Ctx) -> None:
    message = read(tmp_path, make_ctx, f"{HEADER}\n{GOOD.replace(',crm,', ',crm;crm-admn,')}\n", portals={"crm": "CRM"})
    assert "hr.csv:2: column 9 (portals): portal 'crm-admn' is not in settings.portals (crm)" in message


def test_not_utf8(tmp_path: Path, make_ctx: Ctx) -> None:
    (tmp_path / "hr.csv").write_bytes(f"{HEADER}\n{GOOD}\n".encode() + "u2,é@x".encode("latin-1"))
    connector = FileConnector("hr-export", {"path": "hr.csv"}, tmp_path)
    with pytest.raises(InputDataError, match=r"hr\.csv:3: not UTF-8 text"):
        connector.collect(make_ctx())


def test_good_rows_read_with_bom_optional_columns_and_whitespace(tmp_path: Path, make_ctx: Ctx) -> None:
    text = (
        "\ufeff"
        + HEADER
        + ",roles,created,department\n"
        + GOOD
        + ",admin;auditor,2020-01-01T00:00:00+01:00, Finance \n"
        "u2,bob@x,Bob,Guest,FALSE,false,, ,,,NONE,,,\n"
    )
    (tmp_path / "hr.csv").write_text(text, encoding="utf-8")
    snap = FileConnector("hr-export", {"path": "hr.csv"}, tmp_path).collect(make_ctx())
    ada, bob = snap.accounts
    assert ada.roles == ("admin", "auditor") and ada.attributes == {"department": "Finance"}
    assert [(m.kind, m.status) for m in ada.methods] == [("sms", "active"), ("totp_software", "pending")]
    assert ada.last_sign_in is not None and ada.last_sign_in.utcoffset() is not None
    assert bob.kind == "guest" and not bob.enabled and bob.methods == () and bob.attributes == {}
    assert [(p.id, p.name) for p in snap.portals] == [("crm", "crm")]
    assert [(p.id, r.scope.include_users) for p in snap.policies for r in p.rules] == [
        ("file-enforcement-none", ("u2",)),
        ("file-enforcement-mfa", ("u1",)),
    ]


def test_the_documented_example_reads(tmp_path: Path, make_ctx: Ctx) -> None:
    doc = (Path(__file__).resolve().parents[3] / "docs" / "file-formats.md").read_text(encoding="utf-8")
    example = doc.split("```csv\n", 1)[1].split("```", 1)[0]
    (tmp_path / "crm.csv").write_text(example, encoding="utf-8")
    snap = FileConnector("crm", {"path": "crm.csv"}, tmp_path).collect(make_ctx("crm"))
    assert [a.id for a in snap.accounts] == ["u1", "u2", "u3"]
    assert {p.id for p in snap.portals} == {"crm", "crm-admin"}
