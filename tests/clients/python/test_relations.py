"""Relation and history queries answer the seed facts, as the Rust tests do."""

from diplomacy.v1 import relation_pb2 as rel
from diplomacy.v1 import relation_pb2_grpc as rel_grpc
from google.type import date_pb2


def day(year, month=0, day_=0):
    return date_pb2.Date(year=year, month=month, day=day_)


def get(channel, name, as_of):
    return rel_grpc.RelationServiceStub(channel).GetRelation(rel.GetRelationRequest(name=name, as_of=as_of))


def test_turkiye_and_armenia_have_no_relations(channel):
    r = get(channel, "countries/TR/relations/AM", day(2024, 8, 27))
    assert r.diplomatic_status == rel.DIPLOMATIC_STATUS_NONE
    assert (r.status_since.year, r.status_since.month, r.status_since.day) == (1991, 12, 0)
    assert r.status_record == "events/f03"
    assert list(r.treaties_in_force) == []


def test_the_pair_is_unordered(channel):
    a = get(channel, "countries/TR/relations/AM", day(2009, 10, 10))
    b = get(channel, "countries/AM/relations/TR", day(2009, 10, 10))
    a.name = b.name = ""
    assert a == b


def test_turkiye_and_azerbaijan_are_allied(channel):
    r = get(channel, "countries/TR/relations/AZ", day(2022, 1, 1))
    assert r.diplomatic_status == rel.DIPLOMATIC_STATUS_ESTABLISHED
    assert r.allied
    assert [t.name for t in r.treaties_in_force] == ["treaties/t04"]


def test_ukraine_and_russia_severed_during_a_war(channel):
    r = get(channel, "countries/UA/relations/RU", day(2022, 3, 1))
    assert r.diplomatic_status == rel.DIPLOMATIC_STATUS_SEVERED
    assert [c.name for c in r.armed_conflicts] == ["events/c04"]
    assert r.armed_conflicts[0].ongoing


def test_unknown_is_not_none(channel):
    r = get(channel, "countries/FR/relations/AM", day(2024, 1, 1))
    assert r.diplomatic_status == rel.DIPLOMATIC_STATUS_UNKNOWN


def test_mediators_of_armenia_and_azerbaijan(channel):
    r = get(channel, "countries/AM/relations/AZ", day(2025, 8, 31))
    assert {"countries/US", "countries/RU"} <= set(r.mediators)
    assert r.meeting_count == 3  # Almaty, then Washington twice
    assert r.latest_meeting.name == "meetings/m04"


def history(channel, parent, page_size=0):
    stub = rel_grpc.RelationServiceStub(channel)
    entries, token = [], ""
    while True:
        page = stub.ListHistory(rel.ListHistoryRequest(parent=parent, page_size=page_size, page_token=token))
        entries.extend(page.entries)
        token = page.next_page_token
        if not token:
            return entries


def test_armenia_azerbaijan_history_in_order(channel):
    entries = history(channel, "countries/AM/relations/AZ")
    records = [e.record for e in entries]
    expected = ["events/c01", "treaties/t01", "events/c02", "treaties/t03", "events/c03",
                "treaties/t05", "events/e01", "meetings/m01", "meetings/m04"]
    positions = [records.index(r) for r in expected]
    assert positions == sorted(positions), records
    first = entries[0]
    assert (first.date.year, first.date.month, first.date.day) == (1988, 2, 0)
    assert all(e.sources for e in entries)


def test_history_pages_to_the_end(channel):
    whole = history(channel, "countries/AM/relations/AZ")
    paged = history(channel, "countries/AM/relations/AZ", page_size=3)
    assert paged == whole
    assert len(whole) > 20


def test_stream_history_matches_the_pages(channel):
    stub = rel_grpc.RelationServiceStub(channel)
    streamed = list(stub.StreamHistory(rel.StreamHistoryRequest(parent="countries/AZ/relations/AM")))
    assert streamed == history(channel, "countries/AM/relations/AZ")


def test_list_relations_with_a_status_filter(channel):
    stub = rel_grpc.RelationServiceStub(channel)
    page = stub.ListRelations(rel.ListRelationsRequest(
        parent="countries/TR", as_of=day(2024, 8, 27), diplomatic_statuses=[rel.DIPLOMATIC_STATUS_NONE]))
    assert [r.name for r in page.relations] == ["countries/TR/relations/AM"]
