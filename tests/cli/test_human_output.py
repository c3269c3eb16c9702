"""CLI text output is for people: no Python reprs of dicts, tuples or None."""

from __future__ import annotations

from overt.cli.report_cmd import _human


def test_values_are_written_for_people() -> None:
    assert _human({"arrested": 1, "no_action": 2}) == "arrested: 1, no action: 2"
    assert _human(("wanted_by_court", "missing_person")) == "wanted by court, missing person"
    assert _human(None) == "-"
    assert _human({}) == "-"
    assert "{" not in _human({"totals": {"alerts": 2}})
