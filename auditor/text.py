"""Making identity-provider text safe to show: control characters and bidirectional
overrides from a display name must not move the cursor, recolour a terminal, or
reorder what a reader sees. They are shown as ``[U+XXXX]`` instead."""

from __future__ import annotations

import re
from collections.abc import Iterable

from rich.console import Console
from rich.segment import Segment

# C0 and C1 controls except tab and newline, DEL, and the bidi embeddings, overrides
# and isolates (U+202A–U+202E, U+2066–U+2069), plus the implicit marks.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def visible_controls(text: str) -> str:
    return _UNSAFE.sub(lambda m: f"[U+{ord(m.group()):04X}]", text)


class SafeConsole(Console):
    """A rich console that neutralises controls in the text it prints (rich passes them
    through). Rich's own styling and control segments are left alone."""

    def _render_buffer(self, buffer: Iterable[Segment]) -> str:
        return super()._render_buffer(
            seg if seg.control else Segment(visible_controls(seg.text), seg.style, seg.control) for seg in buffer
        )
