"""Proposals written into the user's scenario: the input with the new hiring plan or quotas in place.

When the scenario came from a file, that file's text is edited in place with
**ruamel.yaml**'s round trip, so the user's comments, key order, number spelling
(``290_000``) and indentation survive, and a diff against the input shows only what the
tool proposes. The text is read back and checked to be the expected scenario; if the
round trip cannot reproduce it (an unusual file), the scenario is written from its data
instead, which is always valid but loses the comments.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from .._files import write_atomic
from ..scenario import Scenario, ScenarioError, _set_path
from .errors import PlanError

__all__ = ["proposal_yaml", "write_proposal"]


def _plain(value):
    """ruamel's commented containers as plain dicts and lists (for comparing)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _round_trip(text: str, overrides: dict[str, object], changes: dict[str, object], note: str | None) -> str:
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.util import load_yaml_guess_indent

    _, indent, offset = load_yaml_guess_indent(text)
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=indent - offset if indent > offset else indent, sequence=indent, offset=offset)
    tree = yaml.load(text)
    for path, value in overrides.items():
        _set_path(tree, path, value)
    for path, value in changes.items():
        old = tree.get(path) if isinstance(tree, dict) and "." not in path else None
        if isinstance(value, list) and isinstance(old, list) and _plain(old) == value[: len(old)]:
            # a list that grows (the hiring plan): keep the old entries and their comments
            first = len(old)
            for item in value[first:]:
                entry = CommentedMap(item)
                entry.fa.set_flow_style()
                old.append(entry)
            if note and len(value) > first:
                old.yaml_set_comment_before_after_key(first, before=note, indent=offset)
            continue
        if isinstance(value, list) and all(isinstance(v, dict) for v in value):
            seq = CommentedSeq()
            for item in value:
                entry = CommentedMap(item)
                entry.fa.set_flow_style()
                seq.append(entry)
            value = seq
        _set_path(tree, path, value)
    out = io.StringIO()
    yaml.dump(tree, out)
    return out.getvalue()


def proposal_yaml(scenario: Scenario, changes: dict[str, object], *, base_text: str | None = None,
                  overrides: dict[str, object] | None = None, note: str | None = None) -> str:
    """The YAML of ``scenario`` with ``changes`` (dotted paths, as ``--set`` takes them) applied.

    Parameters
    ----------
    scenario : Scenario
        The scenario the tool worked on (``--set`` overrides included).
    changes : dict
        What the tool proposes, e.g. ``{"hiring_plan": [...]}`` or
        ``{"territories.East.quota_annual": 312_000}``.
    base_text : str, optional
        The scenario file's text; edited in place (comments kept) when given.
    overrides : dict, optional
        The ``--set`` overrides that turned ``base_text`` into ``scenario``.
    note : str, optional
        A comment placed above entries appended to a list.

    Returns
    -------
    str
        YAML that :func:`salessim.load_scenario` reads back to the proposed scenario.
    """
    try:
        expected = scenario.with_overrides(changes)
    except ScenarioError as exc:
        raise PlanError(f"the proposal is not a valid scenario: {exc}") from None
    if base_text is not None:
        try:
            text = _round_trip(base_text, overrides or {}, changes, note)
            if Scenario.from_yaml(text).spec == expected.spec:
                return text
        except Exception:  # noqa: BLE001 - any round-trip failure falls back to the plain dump below
            pass
    return expected.to_yaml()


def write_proposal(path: str | os.PathLike, text: str) -> Path:
    """Write scenario text atomically (a failed write leaves any earlier file as it was)."""
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
