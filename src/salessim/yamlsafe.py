"""Read YAML from people and files we do not control, in bounded time and memory.

:func:`load` is ``yaml.safe_load`` (the same types and the same YAML 1.1 rules) with the
checks a hostile or broken document needs, made *before* the work they protect:

1. the text is at most :data:`~salessim.limits.MAX_YAML_BYTES` long (:func:`read_file`
   checks the file's size before reading it, and reads only regular files);
2. a first pass over the parser's events, which is iterative and builds nothing,
   counts the nodes the document expands to with every alias expanded, and its nesting
   depth. An alias bomb (a few kilobytes that expand to billions of nodes) fails there
   within microseconds, and so does a document nested deeper than the parser's stack;
3. the document is then built, refusing a key given twice in one mapping with both lines
   (PyYAML lets the last one win silently).

Every failure is a :class:`YAMLInputError` whose message names the line and the bound.
libyaml (PyYAML's C parser) is used when PyYAML was built with it, else the pure-Python
parser; both give the same data.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml
from yaml import events

from .limits import MAX_VALUE_CHARS, MAX_YAML_BYTES, MAX_YAML_DEPTH, MAX_YAML_NODES

__all__ = ["YAMLInputError", "load", "read_file"]

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE = "tag:yaml.org,2002:merge"


class YAMLInputError(ValueError):
    """YAML text that cannot be read: malformed, too large, or breaking a limit.

    ``line`` is the 1-based line of the problem (None when it has none), ``message`` the
    problem without the location.
    """

    def __init__(self, message: str, line: int | None = None):
        self.message = message
        self.line = line
        super().__init__(f"line {line}: {message}" if line is not None else message)


def _line(mark: Any) -> int | None:
    return None if mark is None else mark.line + 1


def _cut(text: str) -> str:
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 3] + "..."


def _short(value: Any) -> str:
    return _cut(repr(value))


class _DuplicateCheckingLoader(_Loader):
    """The safe loader, refusing a key that appears twice in one mapping."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._checked: set[int] = set()

    def flatten_mapping(self, node: yaml.MappingNode) -> None:
        # Checked here, before PyYAML folds merge keys (<<) into the mapping: a merged key
        # that the mapping then sets itself is an override, as YAML intends, not a duplicate.
        if id(node) not in self._checked:
            self._checked.add(id(node))
            first: dict[Any, int | None] = {}
            for key_node, _ in node.value:
                if key_node.tag == _MERGE:
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    seen = key in first
                except TypeError:  # an unhashable key: PyYAML reports it below
                    continue
                if seen:
                    raise YAMLInputError(f"duplicate key {_short(key)} (first given on line {first[key]}); "
                                         "a key may appear only once in a mapping", _line(key_node.start_mark))
                first[key] = _line(key_node.start_mark)
        super().flatten_mapping(node)


def _check_events(text: str) -> None:
    """Count expanded nodes and nesting depth from the parser's events; raise past a limit.

    Each open collection accumulates the expanded size of its children; an anchored
    node's size is remembered, and an alias adds the size of what it names, so the count
    is exact and takes one pass however far the aliases would expand.
    """
    sizes: dict[str, int] = {}  # anchor -> expanded node count
    stack: list[list[Any]] = []  # open collections: [anchor, size so far]
    total = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, (events.SequenceStartEvent, events.MappingStartEvent)):
            if len(stack) >= MAX_YAML_DEPTH:
                raise YAMLInputError(f"nested deeper than {MAX_YAML_DEPTH} levels; a scenario needs at most a few",
                                     _line(event.start_mark))
            stack.append([event.anchor, 1])
            total += 1
            size = 0
        elif isinstance(event, (events.SequenceEndEvent, events.MappingEndEvent)):
            anchor, size = stack.pop()
            if anchor is not None:
                sizes[anchor] = size
            if stack:
                stack[-1][1] += size
            continue
        elif isinstance(event, events.ScalarEvent):
            size = 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
            total += 1
        elif isinstance(event, events.AliasEvent):
            if any(anchor == event.anchor for anchor, _ in stack):
                raise YAMLInputError(f"the alias *{event.anchor} refers to a node that contains it (a recursive "
                                     "structure)", _line(event.start_mark))
            size = sizes.get(event.anchor, 1)  # an undefined alias is reported by the parser
            total += size
        else:
            continue
        if stack:
            stack[-1][1] += size
        if total > MAX_YAML_NODES:
            raise YAMLInputError(f"expands to more than {MAX_YAML_NODES:,} values (aliases counted as expanded); "
                                 "a scenario needs far fewer", _line(event.start_mark))


def load(text: str, *, limit_bytes: int = MAX_YAML_BYTES) -> Any:
    """Parse YAML text as ``yaml.safe_load`` does, within the limits of :mod:`salessim.limits`.

    Parameters
    ----------
    text : str
        The YAML document.
    limit_bytes : int
        Largest accepted length of ``text`` in UTF-8 bytes.

    Raises
    ------
    YAMLInputError
        Malformed YAML, a limit broken, or a duplicate key; the message names the line.
    """
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > limit_bytes:
        raise YAMLInputError(f"is {size:,} bytes, more than the limit of {limit_bytes:,}")
    try:
        _check_events(text)
        loader = _DuplicateCheckingLoader(text)
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except YAMLInputError:
        raise
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        message = f"not valid YAML: {problem}" + (f" ({context})" if context else "")
        raise YAMLInputError(message, _line(mark)) from None
    except ValueError as exc:  # a scalar that matches a type but cannot be built (2027-13-45, a 5,000-digit int)
        raise YAMLInputError(f"not valid YAML: a value cannot be read ({_cut(str(exc))})") from None
    except RecursionError:  # pragma: no cover - the depth check runs first
        raise YAMLInputError(f"nested deeper than {MAX_YAML_DEPTH} levels") from None


def read_file(path: str | os.PathLike, *, limit_bytes: int = MAX_YAML_BYTES) -> str:
    """Text of a YAML file, refusing before reading anything too large or not a regular file.

    Raises
    ------
    FileNotFoundError, IsADirectoryError
        As ``open`` would.
    YAMLInputError
        The file is not a regular file (a device, a pipe), is larger than ``limit_bytes``,
        or is not UTF-8 text.
    """
    path = Path(path)
    info = os.stat(path)  # FileNotFoundError as open() would raise it
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(21, "Is a directory", str(path))
    if not stat.S_ISREG(info.st_mode):
        raise YAMLInputError("is not a regular file (a device, pipe or socket); give a scenario file")
    if info.st_size > limit_bytes:
        raise YAMLInputError(f"is {info.st_size:,} bytes, more than the limit of {limit_bytes:,} for a scenario file")
    with open(path, "rb") as fh:
        data = fh.read(limit_bytes + 1)  # the file may have grown since the stat
    if len(data) > limit_bytes:
        raise YAMLInputError(f"is more than the limit of {limit_bytes:,} bytes for a scenario file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YAMLInputError(f"is not UTF-8 text (byte {exc.start} cannot be decoded)") from None
