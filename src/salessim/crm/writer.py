"""The one writer of calibrated scenario files: YAML in the SPEC section 9 format, commented.

A calibrated scenario is built as a :class:`Section` tree: every key with its value and
a comment saying where the number came from (rows used, date range, interval, or "base"
/ "default"). :func:`render` turns the tree into YAML text and :meth:`Section.data` into
the plain data that text parses back to (a test checks the two agree). Values are
written by PyYAML in flow style (``[0.1, 0.3]``, ``{mean: 18000, cv: 0.6}``), so quoting
and escaping are PyYAML's; this module only lays out lines and comments. Long values
(posterior samples) wrap onto indented continuation lines, with their comment above.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import re
import textwrap

import numpy as np
import yaml

__all__ = ["Item", "Section", "render", "tidy", "round_pmf", "significant"]

_WIDTH = 100


@dataclass
class Section:
    """A mapping: ``items`` in order, with comment lines ``note`` above it and ``trailer`` after it."""

    items: list["Item"] = field(default_factory=list)
    note: list[str] = field(default_factory=list)
    trailer: list[str] = field(default_factory=list)

    def add(self, key: str, value: Any, comment: str = "", note: list[str] | None = None) -> "Item":
        item = Item(key, value, comment, list(note or []))
        self.items.append(item)
        return item

    def get(self, key: str) -> "Item | None":
        return next((i for i in self.items if i.key == key), None)

    def data(self) -> dict[str, Any]:
        """The plain data this section renders to."""
        return {i.key: _data(i.value) for i in self.items}


@dataclass
class Item:
    """One key: its value (scalar, list, dict, :class:`Section`, list of Sections or of dicts) and comments.

    A list of Sections renders as a block sequence of block mappings (territories), a list
    of dicts as a block sequence of flow mappings, one a line (reps, pipeline, hiring plan).
    """

    key: str
    value: Any
    comment: str = ""
    note: list[str] = field(default_factory=list)


def _data(value: Any) -> Any:
    if isinstance(value, Section):
        return value.data()
    if isinstance(value, list) and value and all(isinstance(v, Section) for v in value):
        return [v.data() for v in value]
    return tidy(value)


def significant(x: float, digits: int = 4) -> float | int:
    """``x`` rounded to ``digits`` significant digits (ints stay ints)."""
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        return int(x)
    x = float(x)
    if x == 0 or not np.isfinite(x):
        return x
    out = float(f"{x:.{digits}g}")
    return int(out) if out.is_integer() and abs(out) >= 10 ** (digits - 1) else out


def round_pmf(p, decimals: int = 4) -> list[float]:
    """A pmf rounded to ``decimals`` that still sums to 1 (the largest entry takes the rounding)."""
    p = np.asarray(p, float)
    p = p / p.sum()
    r = np.round(p, decimals)
    r[int(np.argmax(r))] += round(1.0 - float(r.sum()), decimals)
    return [float(round(v, decimals)) for v in r]


def tidy(value: Any) -> Any:
    """NumPy scalars and arrays as plain Python values that PyYAML writes."""
    if isinstance(value, dict):
        return {str(k): tidy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [tidy(v) for v in value]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        value = float(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


def _dump(value: Any, room: int, allow_unicode: bool) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=allow_unicode, sort_keys=False,
                          width=max(room, 40))
    # only line breaks and PyYAML's document-end marker go: a value may itself be (non-breaking) space
    return text.removesuffix("\n").removesuffix("\n...").removesuffix("\n")


def _strings(value: Any) -> bool:
    """Whether a value holds any text (only text can need escaping)."""
    if isinstance(value, str):
        return True
    if isinstance(value, dict):
        return any(_strings(k) or _strings(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_strings(v) for v in value)
    return False


def _flow(value: Any, indent: int, room: int) -> list[str]:
    value = tidy(value)
    text = _dump(value, room, allow_unicode=True)  # names such as "José" stay readable ...
    if _strings(value) and yaml.safe_load(text) != value:
        text = _dump(value, room, allow_unicode=False)  # ... unless a character YAML folds (NEL, LS) needs escaping
    lines = text.splitlines()
    pad = " " * (indent + 2)
    return [lines[0]] + [pad + ln.strip() for ln in lines[1:]]


# line breaks end a comment and YAML allows no other control character anywhere in a file
_BREAKS = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")


def _clean(text: str) -> str:
    """Comment text on one line of printable characters: names from an export may hold anything."""
    return _BREAKS.sub(" ", text)


def _comment_lines(note: list[str], indent: int) -> list[str]:
    """Comment lines, long ones wrapped to the page width."""
    pad = " " * indent
    out = []
    for n in map(_clean, note):
        out.extend(textwrap.wrap(n, _WIDTH, initial_indent=f"{pad}# ", subsequent_indent=f"{pad}#   ",
                                 break_on_hyphens=False) or [f"{pad}#"])
    return out


def _emit(section: Section, indent: int, out: list[str]) -> None:
    pad = " " * indent
    for item in section.items:
        value = item.value
        out.extend(_comment_lines(item.note, indent))
        if isinstance(value, Section):
            head = f"{pad}{item.key}:"
            out.append(f"{head}  # {_clean(item.comment)}" if item.comment else head)
            out.extend(_comment_lines(value.note, indent + 2))
            _emit(value, indent + 2, out)
        elif isinstance(value, list) and value and all(isinstance(v, Section) for v in value):
            head = f"{pad}{item.key}:"
            out.append(f"{head}  # {_clean(item.comment)}" if item.comment else head)
            for entry in value:
                out.extend(_comment_lines(entry.note, indent + 2))
                first, *rest = entry.items
                out.extend(_comment_lines(first.note, indent + 2))
                lines: list[str] = []
                _emit(Section([Item(first.key, first.value, first.comment)]), indent + 4, lines)
                lines[0] = f"{' ' * (indent + 2)}- {lines[0].lstrip()}"
                out.extend(lines)
                if rest:
                    _emit(Section(rest), indent + 4, out)
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            head = f"{pad}{item.key}:"  # a block sequence of flow mappings: one entry a line
            out.append(f"{head}  # {_clean(item.comment)}" if item.comment else head)
            for entry in value:
                lines = _flow(entry, indent + 4, _WIDTH - indent - 4)
                out.append(f"{pad}  - {lines[0]}")
                out.extend(lines[1:])
        else:
            head = f"{pad}{item.key}: "
            lines = _flow(value, indent, _WIDTH - len(head))
            lines[0] = head + lines[0]
            if item.comment and len(lines) == 1 and len(lines[0]) + len(item.comment) + 4 <= 2 * _WIDTH:
                lines[0] = f"{lines[0]}  # {_clean(item.comment)}"
            elif item.comment:
                out.extend(_comment_lines([item.comment], indent))
            out.extend(lines)


def render(document: Section) -> str:
    """The YAML text of a document: its note as a header, then every key."""
    out = _comment_lines(document.note, 0)
    _emit(document, 0, out)
    out.extend(_comment_lines(document.trailer, 0))
    return "\n".join(out) + "\n"
