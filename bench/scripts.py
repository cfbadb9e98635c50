"""wrk's Lua scripts, written from the templates in bench/lua/ with the run's data filled in."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Any

TEMPLATES = Path(__file__).resolve().parent / "lua"


@dataclass(frozen=True)
class Script:
    """A template of bench/lua/ (`get`, `post`, `patch`, `webhook`) and the values of its `$names`.

    A value may be a function, called when the script is written: data that must be fresh for
    each run (current ETags, a new delivery id prefix).
    """

    template: str
    values: Mapping[str, Any] = field(default_factory=dict)

    def write(self, path: Path) -> Path:
        values = {name: lua(value() if callable(value) else value) for name, value in self.values.items()}
        path.write_text(Template((TEMPLATES / f"{self.template}.lua").read_text()).substitute(values))
        return path


def lua(value: Any) -> str:
    """A Lua literal: strings, numbers, lists (one item a line) and string-keyed tables."""
    if isinstance(value, str):
        if not value.isascii():
            raise ValueError(f"only ASCII goes into a script: {value!r}")
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, Mapping):
        return "{\n" + "".join(f"  [{lua(key)}] = {lua(item)},\n" for key, item in value.items()) + "}"
    if isinstance(value, Sequence):
        return "{\n" + "".join(f"  {lua(item)},\n" for item in value) + "}"
    raise TypeError(f"no Lua literal for {type(value).__name__}")
