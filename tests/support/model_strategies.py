"""Hypothesis strategies for any model type, built from its type hints (the serialiser
tests draw whole snapshots and results with it). ``simple`` gives the strategy of each
primitive type, so each test chooses how hostile its strings, times and numbers are."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta, timezone
from enum import Enum
from typing import Any, Union, get_args, get_origin

from hypothesis import strategies as st

from auditor import model


def model_strategies(
    simple: Mapping[Any, st.SearchStrategy[Any]], *, max_items: int = 3
) -> Callable[[Any], st.SearchStrategy[Any]]:
    def strategy_for(tp: Any) -> st.SearchStrategy[Any]:
        origin = get_origin(tp)
        if origin in (Union, types.UnionType):
            inner = [a for a in get_args(tp) if a is not type(None)]
            return st.none() | strategy_for(inner[0])
        if origin is tuple:
            args = get_args(tp)
            if len(args) == 2 and args[1] is Ellipsis:
                return st.lists(strategy_for(args[0]), max_size=3).map(tuple)
            return st.tuples(*(strategy_for(a) for a in args))  # fixed length, a type per position
        if origin is frozenset:
            return st.frozensets(strategy_for(get_args(tp)[0]), max_size=3)
        if origin in (dict, Mapping):
            key_t, val_t = get_args(tp)
            return st.dictionaries(strategy_for(key_t), strategy_for(val_t), max_size=max_items)
        supertype = getattr(tp, "__supertype__", None)  # NewType
        if supertype is not None:
            return strategy_for(supertype)
        if isinstance(tp, type) and dataclasses.is_dataclass(tp):
            hints = typing.get_type_hints(tp, vars(model))
            return st.builds(tp, **{f.name: strategy_for(hints[f.name]) for f in dataclasses.fields(tp)})
        if isinstance(tp, type) and issubclass(tp, Enum):
            return st.sampled_from(list(tp))
        return simple[tp]

    return strategy_for


def round_trip_strategies(*, text_size: int = 8, max_items: int = 3) -> Callable[[Any], st.SearchStrategy[Any]]:
    """What the JSON round trip must carry: aware date-times at minute offsets (what ISO 8601
    writes and reads back), any text, integers a JSON reader keeps exact."""
    aware = st.builds(
        lambda dt, minutes: dt.replace(tzinfo=timezone(timedelta(minutes=minutes))),
        st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1)),
        st.integers(-23 * 60 - 59, 23 * 60 + 59),
    )
    simple: dict[Any, st.SearchStrategy[Any]] = {
        datetime: aware,
        date: st.dates(),
        str: st.text(max_size=text_size),
        int: st.integers(-(2**53), 2**53),
        bool: st.booleans(),
    }
    return model_strategies(simple, max_items=max_items)
