"""Mermaid ``stateDiagram-v2`` text for a pipeline (for docs and notebooks)."""

import re

from ._pipeline import Pipeline
from ._stage import StageKind
from ._transitions import move_violation

__all__ = ["to_mermaid"]

_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


def _node(stage_id: str, i: int) -> str:
    # Mermaid state ids must be simple words; keep the id readable and make it unique.
    return f"s{i}_{_UNSAFE.sub('_', stage_id)}"


def _label(text: str) -> str:
    # Labels go after "state ... as" or ":"; strip what Mermaid would read as syntax.
    return " ".join(text.replace('"', "'").replace(":", " -").split())


def to_mermaid(pipeline: Pipeline) -> str:
    """Return a ``stateDiagram-v2`` of ``pipeline``: stages, legal moves, start and ends.

    Open stages show their default probability; won and lost stages lead to the end state.
    """
    stages = pipeline.stages
    nodes = [_node(s.id, i) for i, s in enumerate(stages)]
    lines = ["stateDiagram-v2", f"    %% pipeline {_label(pipeline.id)}: {_label(pipeline.label)}"]
    for node, s in zip(nodes, stages, strict=True):
        suffix = f" ({round(s.probability * 100)}%)" if s.is_open else ""
        lines.append(f'    state "{_label(s.label)}{suffix}" as {node}')
    lines.append(f"    [*] --> {nodes[0]}")
    for i, _ in enumerate(stages):
        for j, _ in enumerate(stages):
            if i != j and move_violation(pipeline, i, j) is None:
                lines.append(f"    {nodes[i]} --> {nodes[j]}")
    for node, s in zip(nodes, stages, strict=True):
        if s.kind is not StageKind.OPEN:
            lines.append(f"    {node} --> [*]")
    for node, s in zip(nodes, stages, strict=True):
        if s.kind is StageKind.WON:
            lines.append(f"    class {node} won")
        elif s.kind is StageKind.LOST:
            lines.append(f"    class {node} lost")
    lines.append("    classDef won fill:#d4f7d4,stroke:#2e7d32")
    lines.append("    classDef lost fill:#f7d4d4,stroke:#c62828")
    return "\n".join(lines) + "\n"
