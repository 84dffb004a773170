"""YAML read with the line of every entry, so that a bad row of an imported file is named as ``file:line: reason``
(the organisation registry, indicator sets, plans)."""

from __future__ import annotations

from typing import Any

import yaml


class YamlError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class Record(dict[str, Any]):
    """A mapping that remembers the line it starts on, the line of each field, and fields given twice."""

    line: int = 0
    lines: dict[Any, int]
    duplicates: list[tuple[Any, int]]

    def line_of(self, key: str) -> int:
        return self.lines.get(key, self.line)


class Seq(list[Any]):
    """A list that remembers the line of each entry."""

    lines: list[int]


class LineLoader(yaml.SafeLoader):
    pass


def _construct_record(loader: LineLoader, node: yaml.MappingNode) -> Record:
    record = Record(loader.construct_mapping(node, deep=True))
    record.line = node.start_mark.line + 1
    record.lines, record.duplicates = {}, []
    for key_node, value_node in node.value:  # flattened by construct_mapping (merge keys resolved)
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if key in record.lines:
            record.duplicates.append((key, line))
        record.lines[key] = value_node.start_mark.line + 1  # the last one given is the one kept
    return record


def _construct_seq(loader: LineLoader, node: yaml.SequenceNode) -> Seq:
    seq = Seq(loader.construct_sequence(node, deep=True))
    seq.lines = [child.start_mark.line + 1 for child in node.value]
    return seq


def _construct_timestamp(loader: LineLoader, node: yaml.ScalarNode) -> Any:
    # An impossible unquoted date (2015-02-31) stays text, to be reported with its line like any bad value.
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:
        return loader.construct_scalar(node)


LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_record)
LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_seq)
LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def load(text: str, source: str) -> Any:
    """The document, its mappings as ``Record`` and lists as ``Seq``; ``YamlError`` naming the line otherwise."""
    try:
        return yaml.load(text, Loader=LineLoader)  # LineLoader is a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise YamlError([f"{source}:{line}: not valid YAML ({getattr(exc, 'problem', exc)})"]) from None
