"""The reference decoder: plain JSON data to the model by walking its type hints
(``from_data``), and the error a document that is not one this version reads raises.

It is the definition that ``auditor.evidence.model_decode``'s generated decoders must match, and the
path they give way to on anything unexpected. It lives on its own so that ``serialise``
(which uses the fast decoders) and ``model_decode`` (which falls back on this) do not
import each other."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from datetime import date, datetime
from enum import Enum
from functools import cache
from typing import Any, Union, get_args, get_origin

from auditor import model


class SnapshotFormatError(ValueError):
    """A snapshot document is not one this version can read; names the path inside it."""


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls, vars(model))


def from_data(tp: Any, data: Any, path: str = "$") -> Any:
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        if data is None:
            return None
        non_null = [a for a in get_args(tp) if a is not type(None)]
        return from_data(non_null[0], data, path)
    if tp is Any:
        return data
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if not isinstance(data, dict):
            raise SnapshotFormatError(f"{path}: expected an object for {tp.__name__}")
        hints = _hints(tp)
        kwargs = {}
        for f in dataclasses.fields(tp):
            if f.name in data:
                kwargs[f.name] = from_data(hints[f.name], data[f.name], f"{path}.{f.name}")
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise SnapshotFormatError(f"{path}: missing field {f.name!r}")
        return tp(**kwargs)
    if origin is tuple or origin is frozenset:
        args = get_args(tp)
        if not isinstance(data, list):
            raise SnapshotFormatError(f"{path}: expected a list")
        if origin is frozenset:
            return frozenset(from_data(args[0], v, f"{path}[{i}]") for i, v in enumerate(data))
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(from_data(args[0], v, f"{path}[{i}]") for i, v in enumerate(data))
        # A fixed-length tuple: one type per position (``tuple[int, str]``).
        if len(data) != len(args):
            raise SnapshotFormatError(f"{path}: expected {len(args)} items, got {len(data)}")
        return tuple(from_data(t, v, f"{path}[{i}]") for i, (t, v) in enumerate(zip(args, data, strict=True)))
    if origin in (Mapping, dict) or origin is typing.Mapping:
        key_t, val_t = get_args(tp)
        if not isinstance(data, dict):
            raise SnapshotFormatError(f"{path}: expected an object")
        return {from_data(key_t, k, path): from_data(val_t, v, f"{path}.{k}") for k, v in data.items()}
    supertype = getattr(tp, "__supertype__", None)  # NewType
    if supertype is not None:
        return from_data(supertype, data, path)
    try:
        if isinstance(tp, type) and issubclass(tp, Enum):
            return tp(data)
        if tp is datetime:
            return datetime.fromisoformat(data)
        if tp is date:
            return date.fromisoformat(data)
    except (ValueError, TypeError) as exc:
        raise SnapshotFormatError(f"{path}: {exc}") from None
    if tp in (str, int, float, bool):
        if tp is float and isinstance(data, int) and not isinstance(data, bool):
            return float(data)
        if not isinstance(data, tp) or (tp is int and isinstance(data, bool)):
            raise SnapshotFormatError(f"{path}: expected {tp.__name__}, got {type(data).__name__}")
        return data
    raise SnapshotFormatError(f"{path}: unsupported type {tp!r}")
