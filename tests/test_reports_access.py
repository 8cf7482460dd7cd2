"""Scope lookups of the access checks (reports.access) on both dialects."""

from datetime import datetime

from reports import access
from tests.builders import add_case, make_reference


def test_units_of_a_street(writer, reader):
    make_reference(writer)
    assert access.units_of_street(reader, 2) == {"communities": frozenset({3, 4}), "grids": frozenset({31, 32, 41, 42})}
    assert access.units_of_street(reader, 99) == {"communities": frozenset(), "grids": frozenset()}


def test_case_owner(writer, reader):
    make_reference(writer)
    with_dept = add_case(writer, grid_id=31, reported_at=datetime(2026, 11, 20, 9), department_id=2)
    without = add_case(writer, grid_id=11, reported_at=datetime(2026, 11, 20, 9), department_id=None)
    assert access.case_owner(reader, with_dept) == {"street_id": 2, "department_id": 2}
    assert access.case_owner(reader, without) == {"street_id": 1, "department_id": None}
    assert access.case_owner(reader, 10**9) is None
