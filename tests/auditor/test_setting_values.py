"""The connectors' one reader of plain setting values: each wrong value names its key."""

from __future__ import annotations

import pytest

from auditor.config.setting_values import flag, optional_text, required_text
from auditor.interfaces import SettingsError


def test_text_is_stripped_and_optional_text_may_be_absent() -> None:
    assert optional_text({"a": "  x "}, "a") == "x" == required_text({"a": "x "}, "a")
    assert optional_text({}, "a") is None


@pytest.mark.parametrize("value", ["", "   ", 3, ["x"]])
def test_a_wrong_text_names_the_key(value: object) -> None:
    with pytest.raises(SettingsError, match=r"oauth\.key_id"):
        optional_text({"key_id": value}, "key_id", where="oauth.key_id")
    with pytest.raises(SettingsError, match="realm"):
        required_text({"realm": value}, "realm")


def test_a_missing_required_text_says_nothing_was_given() -> None:
    with pytest.raises(SettingsError, match="nothing"):
        required_text({}, "realm")


def test_flags_are_booleans_only() -> None:
    assert flag({}, "x", True) is True and flag({"x": False}, "x", True) is False
    with pytest.raises(SettingsError, match="true or false"):
        flag({"x": "yes"}, "x", False)
