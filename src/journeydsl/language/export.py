"""`journey export` and `journey schema`: the compiled model as JSON, and its JSON Schema.

Both outputs are deterministic: the same input gives the same bytes (keys in
the models' field order, lists in declaration order, no timestamps).

>>> import journeydsl
>>> result = journeydsl.loads('journey "x" { stage a {}\\n stage b {}\\n entry a\\n'
...                           ' a -> b 30%\\n goal b }')
>>> data = export_data(result.compilation)
>>> [(s["id"], s["kind"], s["goal"]) for s in data["steps"]]
[('a', 'stage', False), ('b', 'stage', True)]
>>> data["journey"]["transitions"][0]["target"]["step"]
'b'
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..display import json_shown
from .source import SourceFile, Span

if TYPE_CHECKING:
    from .compiler import Compilation
    from .resolve import Names

#: Bumped when the layout of `journey export` output changes incompatibly.
EXPORT_VERSION = 1
FORMATS = ("json",)


def export_data(result: Compilation) -> dict:
    """The compiled journey (references resolved) and its steps, as JSON-ready data."""
    from .model import Stage

    journey, index, source = result.model, result.names, result.source
    if journey is None or index is None or source is None or not result.ok:
        raise ValueError("the journey did not compile; export needs a file without errors")
    goals = set(index.goal_steps)
    steps = [
        {
            "id": step_id,
            "kind": "stage" if isinstance(step, Stage) else "touchpoint",
            "label": step.label,
            "stage": index.stage_of[step_id],
            "goal": step_id in goals,
        }
        for step_id, step in index.steps.items()
    ]
    return {
        "export_version": EXPORT_VERSION,
        "journey": _with_steps(journey.model_dump(mode="json"), index),
        "personas": list(index.personas),
        "steps": steps,
        "goals": list(index.goal_steps),
        "sources": _sources(source),
    }


def _with_steps(data: Any, names: Names) -> Any:
    """The model dump with each reference's `step` filled in from the names
    (the model keeps references as written; `step` is what they mean)."""
    if isinstance(data, dict):
        if "qualifier" in data and "step" in data and "span" in data:
            data["step"] = names.meaning.get(Span(*data["span"]))
        for value in data.values():
            _with_steps(value, names)
    elif isinstance(data, list):
        for value in data:
            _with_steps(value, names)
    return data


def _sources(source: SourceFile) -> list[dict]:
    """The files whose text the spans point into: a span at or past a file's
    `offset` (the last such file) is in that file, at span - offset. Only
    journeys that `use` other files have more than one."""
    files = [(0, source)] + list(source.imported)
    return [{"path": src.path, "offset": base} for base, src in files]


def export_json(result: Compilation) -> str:
    # labels keep every character; those that act on a terminal as escapes
    return json_shown(json.dumps(export_data(result), indent=2, ensure_ascii=False,
                                 allow_nan=False))


def journey_schema() -> dict:
    """JSON Schema (draft 2020-12) of `Journey`, as pydantic describes it."""
    from .model import Journey

    schema = Journey.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def schema_json() -> str:
    return json.dumps(journey_schema(), indent=2, ensure_ascii=False)
