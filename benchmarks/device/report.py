"""``device_check.json`` and ``device_check.md``: what the check measured, rewritten whole after every
measurement, so a run stopped at any point leaves every figure it got.

Each part writes tables (title, columns, rows), notes and raw data; the Markdown file renders the
same content for a reader, the JSON file keeps it for a program.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from vzero_core.atomic_text import write_text_atomic

JSON_NAME = "device_check.json"
MD_NAME = "device_check.md"


class Part:
    """One part's entry in the report: status, tables, notes and raw data; :meth:`save` writes the
    whole report."""

    def __init__(self, report: Report, name: str) -> None:
        self.report = report
        self.entry: dict[str, Any] = {
            "status": "running",
            "seconds": 0.0,
            "tables": [],
            "notes": [],
            "data": {},
        }
        report.data["parts"][name] = self.entry
        self.name = name

    @property
    def data(self) -> dict[str, Any]:
        return self.entry["data"]

    def table(self, title: str, columns: list[str]) -> list[list[Any]]:
        """A new table; append rows to the returned list (then :meth:`save`)."""
        rows: list[list[Any]] = []
        self.entry["tables"].append({"title": title, "columns": columns, "rows": rows})
        return rows

    def note(self, text: str) -> None:
        self.entry["notes"].append(text)

    def save(self) -> None:
        self.report.save()


class Report:
    """The run's report under ``out_dir``; ``header`` says what ran where."""

    def __init__(self, out_dir: Path, header: dict[str, Any]) -> None:
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.data: dict[str, Any] = {**header, "parts": {}}

    def part(self, name: str) -> Part:
        return Part(self, name)

    def save(self) -> None:
        self.data["written"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
        write_text_atomic(self.out_dir / JSON_NAME, json.dumps(self.data, indent=1, default=str) + "\n")
        write_text_atomic(self.out_dir / MD_NAME, render_markdown(self.data))


def cell(value: Any) -> str:
    """A table cell: floats to three significant digits (thousands separated above 1000)."""
    if value is None:
        return "-"
    if isinstance(value, bool) or not isinstance(value, float):
        return str(value)
    if value != value:  # NaN
        return "-"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def table_markdown(table: dict[str, Any]) -> str:
    lines = [f"**{table['title']}**", "", "| " + " | ".join(table["columns"]) + " |"]
    lines.append("|" + "---|" * len(table["columns"]))
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in table["rows"]]
    return "\n".join(lines)


def part_markdown(name: str, entry: dict[str, Any]) -> str:
    """One part's section: its status and time, error, tables and notes."""
    lines = [f"## {name}: {entry['status']} ({entry['seconds']:.0f} s)", ""]
    if entry.get("error"):
        lines += ["```", entry["error"], "```", ""]
    for table in entry["tables"]:
        lines += [table_markdown(table), ""]
    lines += [f"- {note}" for note in entry["notes"]]
    return "\n".join(lines).rstrip() + "\n"


def render_markdown(data: dict[str, Any]) -> str:
    """The report for a reader: the header, then each part's section."""
    lines = [f"# vzero device check ({data.get('mode', '?')})", ""]
    for key in ("date", "machine", "commit", "budget_s", "argv", "written"):
        if key in data:
            lines.append(f"- {key}: {data[key]}")
    for name, entry in data["parts"].items():
        lines += ["", part_markdown(name, entry).rstrip()]
    return "\n".join(lines).rstrip() + "\n"
