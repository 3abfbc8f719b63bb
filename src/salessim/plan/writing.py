"""Proposals written into the user's scenario: the input with the new hiring plan or quotas in place.

When the scenario came from a file, that file's text is edited in place with
**ruamel.yaml**'s round trip, so the user's comments, key order, number spelling
(``290_000``, which new numbers follow) and indentation survive, and a diff against the input shows only what the
tool proposes. The text is read back and checked to be the expected scenario; if the
round trip cannot reproduce it (an unusual file), the scenario is written from its data
instead, which is always valid but loses the comments.

Files the scenario names (``pipeline_file``, ``deal_size.empirical_file``) are read
relative to the scenario's folder; when the proposal is written elsewhere, their paths
are rewritten relative to the new file's folder, so it reads the same files.
"""

from __future__ import annotations

import io
import os
import re
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


def _file_keys(tree) -> list[tuple[dict, str]]:
    """(mapping, key) of every file name in a scenario tree: pipeline_file and each deal_size.empirical_file."""
    out = []
    if isinstance(tree, dict):
        if isinstance(tree.get("pipeline_file"), str):
            out.append((tree, "pipeline_file"))
        places = [tree.get("defaults")] + list(tree.get("territories") or [])
        for place in places:
            deal = place.get("deal_size") if isinstance(place, dict) else None
            if isinstance(deal, dict) and isinstance(deal.get("empirical_file"), str):
                out.append((deal, "empirical_file"))
    return out


def _moved(label: str, base_dir: Path, out_dir: Path) -> str:
    """``label`` (read from ``base_dir``) as a path from ``out_dir``: relative when the file lies
    under ``out_dir``, else absolute (a path climbing out of the folder breaks when either moves)."""
    if os.path.isabs(label):
        return label
    target = os.path.abspath(base_dir / label)
    try:
        rel = os.path.relpath(target, os.path.abspath(out_dir))
    except ValueError:  # another drive: no relative path exists
        return Path(target).as_posix()
    return Path(target).as_posix() if rel.split(os.sep)[0] == os.pardir else Path(rel).as_posix()


def _number(value: object, underscores: bool) -> object:
    """A whole number in the file's spelling (``312_000`` where the file groups digits so)."""
    from ruamel.yaml.scalarint import ScalarInt

    if underscores and isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10_000:
        return ScalarInt(value, underscore=[3, False, False])
    return value


def _round_trip(text: str, overrides: dict[str, object], changes: dict[str, object], note: str | None,
                move: tuple[Path, Path] | None = None) -> str:
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.util import load_yaml_guess_indent

    _, indent, offset = load_yaml_guess_indent(text)
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=indent - offset if indent > offset else indent, sequence=indent, offset=offset)
    tree = yaml.load(text)
    if move is not None:
        for mapping, key in _file_keys(tree):
            mapping[key] = _moved(mapping[key], *move)
    for path, value in overrides.items():
        _set_path(tree, path, value)
    underscores = re.search(r"\d_\d{3}\b", text) is not None
    for path, value in changes.items():
        value = _number(value, underscores)
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
                  overrides: dict[str, object] | None = None, note: str | None = None,
                  base_dir: str | os.PathLike | None = None, out_dir: str | os.PathLike | None = None) -> str:
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
    base_dir, out_dir : path, optional
        The folder ``base_text``'s file names are read from (default: the current one), and
        the folder the proposal is written to (default: ``base_dir``).

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
        base = Path.cwd() if base_dir is None else Path(base_dir)
        out = base if out_dir is None else Path(out_dir)
        move = None if os.path.abspath(base) == os.path.abspath(out) else (base, out)
        try:
            text = _round_trip(base_text, overrides or {}, changes, note, move)
            if Scenario.from_yaml(text, base_dir=out).spec == expected.spec:
                return text
        except Exception:  # noqa: BLE001 - any round-trip failure falls back to the plain dump below
            pass
    return expected.to_yaml()


def write_proposal(path: str | os.PathLike, text: str) -> Path:
    """Write scenario text atomically (a failed write leaves any earlier file as it was)."""
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
