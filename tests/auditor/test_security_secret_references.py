"""Secret references are parsed in one place (``auditor.config.secrets``), the same for the
config file and every connector: what is accepted, and that no error ever echoes a
value that may be a secret."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditor.config.secrets import ReferenceProblem, parse_reference, reveal_line, settings_secret
from auditor.interfaces import Secret, SecretError, SettingsError

BASE = Path("/cfg")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"env": "MY_TOKEN"}, Secret(env="MY_TOKEN")),
        ({"file": "keys/k.pem"}, Secret(file=BASE / "keys/k.pem")),
        ({"file": "/abs/k.pem"}, Secret(file=Path("/abs/k.pem"))),
        ({"file": Path("rel.pem")}, Secret(file=BASE / "rel.pem")),
        (Secret(env="X"), Secret(env="X")),
    ],
)
def test_accepted_references(value: object, expected: Secret) -> None:
    assert parse_reference(value, BASE) == expected


@pytest.mark.parametrize(
    ("value", "part"),
    [
        ("plain-value", ""),
        ({"env": "1-not-a-name"}, "env"),
        ({"env": ""}, "env"),
        ({"file": ""}, "file"),
        ({"file": 3}, "file"),
        ({"env": "A", "file": "b"}, ""),
        ({}, ""),
        (None, ""),
    ],
)
def test_refused_references_name_the_part(value: object, part: str) -> None:
    with pytest.raises(ReferenceProblem) as err:
        parse_reference(value, BASE)
    assert err.value.part == part
    with pytest.raises(SettingsError) as serr:
        settings_secret(value, "client_secret", BASE)
    assert serr.value.key == ("client_secret." + part if part else "client_secret")


@given(st.text(min_size=8).filter(lambda t: t.strip() == t and any(c.isalnum() for c in t)))
def test_no_error_echoes_a_plain_value(value: str) -> None:
    for candidate in (value, {"file": value, "env": value}, [value], {"token": value}):
        with pytest.raises(ReferenceProblem) as err:
            parse_reference(candidate, BASE)
        assert value not in str(err.value)
        with pytest.raises(SettingsError) as serr:
            settings_secret(candidate, "token", BASE)
        assert value not in str(serr.value)


def test_a_non_utf8_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_bytes(b"abc\xffdef")
    with pytest.raises(SecretError, match="not UTF-8") as err:
        Secret(file=path).reveal()
    assert "abc" not in str(err.value).replace(str(path), "")


@given(st.text(min_size=1).filter(lambda t: "\x00" not in t))
def test_reveal_line_refuses_control_characters(value: str) -> None:
    import os

    os.environ["MFA_TEST_LINE"] = value
    try:
        revealed = reveal_line(Secret(env="MFA_TEST_LINE"), "token")
    except SettingsError as err:
        assert err.key == "token" and value not in str(err)
        assert any(ord(c) < 32 or ord(c) == 127 for c in value)
    else:
        assert revealed == value and all(ord(c) >= 32 and ord(c) != 127 for c in value)
    finally:
        del os.environ["MFA_TEST_LINE"]
