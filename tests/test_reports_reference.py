"""Reference data for every screen (reports.reference) on both dialects."""

from datetime import date

from reports import reference
from tests.builders import make_reference


def test_units_departments_categories_and_facts(writer, reader):
    make_reference(writer)
    assert list(reference.streets(reader)["id"]) == [1, 2]
    assert list(reference.communities(reader, 2)["id"]) == [3, 4]
    assert list(reference.grids(reader, 1)["id"]) == [11, 12, 21, 22]
    assert len(reference.departments(reader)) == 3 and len(reference.categories(reader)) == 4
    facts = reference.dataset_facts(reader)
    assert facts == {"origin": "tests"} and not reference.is_demo(facts)


def test_is_demo():
    assert reference.is_demo({"origin": "seed:demo"})
    assert not reference.is_demo({"origin": "import"}) and not reference.is_demo({}) and not reference.is_demo(None)


def test_work_calendar_from_the_database(reader):
    calendar = reference.work_calendar(reader)
    assert calendar.is_workday(date(2026, 11, 20)) and not calendar.is_workday(date(2026, 11, 21))  # Fri, Sat
    assert calendar.work_hours_per_day == 8.0
