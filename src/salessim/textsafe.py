"""User text shown safely everywhere salessim shows it: terminal, plots, spreadsheets.

Scenario names, territory names, descriptions, paths and values come from files people
edit (and results files anyone can change), so every place that displays them treats
them as text, never as instructions to the display:

- **terminal**: :func:`printable` replaces control characters (ANSI escapes, carriage
  returns, bidirectional overrides) with visible ``\\x1b``-style escapes, and
  :func:`terminal` wraps the result in a ``rich.text.Text``, which rich prints as it is
  (no ``[markup]``, no ``:emoji:`` codes);
- **plots**: :func:`plot_text` escapes ``$`` so matplotlib never reads a name as mathtext
  (an unbalanced ``$...$`` made the whole figure fail);
- **spreadsheets**: :func:`spreadsheet_text` neutralises formula injection as the OWASP
  CSV-injection guidance says: a text cell starting with ``=``, ``+``, ``-``, ``@``, tab
  or carriage return gets a leading single quote, so no spreadsheet evaluates it.
  Numbers are never touched. (The xlsx writer also stores such cells as text, never as
  formulas: :func:`is_formula_like` tells it which.)

The HTML report escapes through Jinja2's autoescaping and needs nothing from here.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.text import Text

__all__ = ["CONTROL_CHARACTERS", "printable", "terminal", "plot_text", "is_formula_like", "spreadsheet_text"]

# C0 and C1 controls, DEL, line and paragraph separators, and the bidirectional embedding,
# override and isolate characters (a "Trojan source" name can reorder what a reader sees).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""Characters that are never part of a one-line name (scenario validation refuses them)."""
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object, *, lines: bool = False) -> str:
    """``text`` as a string with every control character shown as an escape (``\\x1b``).

    Parameters
    ----------
    text : object
        Anything; it is converted with ``str``.
    lines : bool
        Keep newlines and tabs (messages, descriptions); otherwise they are escaped too
        (names, table cells).
    """
    pattern = _CONTROL if lines else CONTROL_CHARACTERS
    return pattern.sub(_escape, str(text))


def terminal(text: object, *, lines: bool = False, style: str = "") -> Text:
    """A rich ``Text`` of :func:`printable` text: printed literally, never read as markup."""
    from rich.text import Text

    return Text(printable(text, lines=lines), style=style)


def plot_text(text: object) -> str:
    """Text for a matplotlib label or title: printable, with ``$`` escaped so it is never mathtext."""
    return printable(text).replace("$", r"\$")


def is_formula_like(value: object) -> bool:
    """True for text that a spreadsheet would evaluate: it starts with = + - @ tab or CR."""
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)


def spreadsheet_text(value: object) -> object:
    """A cell for a csv a spreadsheet will open: formula-like text gets a leading ``'``; other values as they are."""
    return "'" + value if is_formula_like(value) else value
