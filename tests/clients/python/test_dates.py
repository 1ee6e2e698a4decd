"""Treaties and dates from Python: consent per party, answers for a period,
and answers a partial date leaves open."""

from google.protobuf import field_mask_pb2

from diplomacy.v1 import common_pb2, relation_pb2, relation_pb2_grpc, treaty_pb2, treaty_pb2_grpc
from google.type import date_pb2


def day(year, month=0, day_=0):
    return date_pb2.Date(year=year, month=month, day=day_)


def relation(channel, name, as_of):
    return relation_pb2_grpc.RelationServiceStub(channel).GetRelation(
        relation_pb2.GetRelationRequest(name=name, as_of=as_of)
    )


def test_a_month_names_what_changed_within_it(channel):
    r = relation(channel, "countries/RU/relations/UA", day(2022, 2))
    assert r.diplomatic_status == relation_pb2.DIPLOMATIC_STATUS_SEVERED
    assert list(r.changed_within) == ["events/c04", "events/f06"]


def test_a_day_inside_a_partial_date_is_uncertain(channel):
    r = relation(channel, "countries/TR/relations/AM", day(1991, 12, 10))
    assert list(r.uncertain_records) == ["events/f03"]
    assert list(relation(channel, "countries/TR/relations/AM", day(1991, 12, 31)).uncertain_records) == []


def test_a_treaty_binds_a_pair_only_once_both_consented(channel):
    stub = treaty_pb2_grpc.TreatyServiceStub(channel)
    ratified = treaty_pb2.TreatyParty(
        country="countries/NO", signature_date=day(2020, 1, 10),
        consent_kind=treaty_pb2.CONSENT_KIND_RATIFICATION, consent_date=day(2020, 3, 1))
    signed_only = treaty_pb2.TreatyParty(country="countries/IS", signature_date=day(2020, 1, 10))
    treaty = treaty_pb2.Treaty(
        title="Python consent treaty", kind=treaty_pb2.TREATY_KIND_TRADE, status=treaty_pb2.TREATY_STATUS_IN_FORCE,
        signed_date=day(2020, 1, 10), entry_into_force_date=day(2020, 6, 1), parties=[ratified, signed_only],
        sources=[common_pb2.Source(title="Python client test", publisher="tests")])
    created = stub.CreateTreaty(treaty_pb2.CreateTreatyRequest(treaty=treaty, treaty_id="python-consent"))
    try:
        pair = "countries/NO/relations/IS"
        assert relation(channel, pair, day(2021)).treaties_in_force_count == 0
        iceland = treaty_pb2.TreatyParty()
        iceland.CopyFrom(signed_only)
        iceland.consent_kind = treaty_pb2.CONSENT_KIND_RATIFICATION
        iceland.consent_date.CopyFrom(day(2020, 9, 15))
        stub.UpdateTreaty(treaty_pb2.UpdateTreatyRequest(
            treaty=treaty_pb2.Treaty(name=created.name, parties=[ratified, iceland]),
            update_mask=field_mask_pb2.FieldMask(paths=["parties"])))
        assert relation(channel, pair, day(2020, 9, 14)).treaties_in_force_count == 0
        assert relation(channel, pair, day(2020, 9, 15)).treaties_in_force_count == 1
    finally:
        stub.DeleteTreaty(treaty_pb2.DeleteTreatyRequest(name=created.name))


def test_the_zurich_protocols_are_pending_then_void(channel):
    pending = relation(channel, "countries/TR/relations/AM", day(2012, 1, 1)).treaties_not_in_force
    assert [(t.treaty.name, t.standing) for t in pending] == [
        ("treaties/t02", relation_pb2.TREATY_NOT_IN_FORCE_STANDING_SIGNED)]
    void = relation(channel, "countries/TR/relations/AM", day(2019, 1, 1)).treaties_not_in_force
    assert [(t.treaty.name, t.standing, t.since.year) for t in void] == [
        ("treaties/t02", relation_pb2.TREATY_NOT_IN_FORCE_STANDING_VOID, 2018)]
