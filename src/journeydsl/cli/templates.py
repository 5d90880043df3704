"""Starter journeys for `journey new`, taken from the examples.

A wheel ships the examples at `journeydsl/examples/`; in a source tree the
repository's examples/ folder is read (as `syntax.grammar_text` does).

>>> text = starter_text("saas", "Team onboarding")
>>> text.splitlines()[0]
'# Starter journey from the `saas` template: edit it to fit your own journey.'
>>> 'journey "Team onboarding" {' in text
True
"""

from __future__ import annotations

import re
from pathlib import Path

#: template name -> example file it starts from.
TEMPLATES: dict[str, str] = {
    "saas": "saas_trial.journey",
    "lifecycle": "lifecycle_five_stage.journey",
    "value-ladder": "value_ladder.journey",
    "ecommerce": "vn_label_printer.journey",
    "marketplace": "vn_label_printer.journey",
    "registrar": "domain_registrar.journey",
    "activities": "lifecycle_activities.journey",
}

_TITLE = re.compile(r'^(journey\s+)"(?:[^"\\\n]|\\.)*"', re.MULTILINE)


def examples_dir() -> Path:
    """The examples inside the installed package, or the repository's examples/."""
    here = Path(__file__).resolve().parent
    packaged = here.parent / "examples"  # inside an installed wheel
    if packaged.is_dir():
        return packaged
    return here.parents[2] / "examples"


def template_text(template: str) -> str:
    """The example file behind `template`; KeyError for an unknown template."""
    return (examples_dir() / TEMPLATES[template]).read_text(encoding="utf-8")


def quote(text: str) -> str:
    """`text` as a journey string literal.

    >>> print(quote('say "hi" \\\\ bye'))
    "say \\"hi\\" \\\\ bye"
    """
    clean = " ".join(text.split())  # no newlines or tabs inside a label
    return '"' + clean.replace("\\", "\\\\").replace('"', '\\"') + '"'


def starter_text(template: str, title: str) -> str:
    """The template's journey with `title` as its title and a header line."""
    text = template_text(template)
    text = _TITLE.sub(lambda m: m.group(1) + quote(title), text, count=1)
    header = f"# Starter journey from the `{template}` template: edit it to fit your own journey.\n"
    return header + text


def target_path(name: str, directory: Path) -> Path:
    """`directory/NAME.journey` (NAME may already end in `.journey`)."""
    filename = name if name.endswith(".journey") else name + ".journey"
    return directory / filename


def title_from_name(name: str) -> str:
    """A title from a file name: `team-onboarding.journey` -> `team onboarding`."""
    stem = Path(name).name
    stem = stem.removesuffix(".journey")
    return " ".join(stem.replace("_", " ").replace("-", " ").split()) or "New journey"
