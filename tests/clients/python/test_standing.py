"""How far apart, from Python: recognition and representation per
direction, the border, and who recognises a state."""

import grpc
import pytest

from test_resources import bad_request_fields
from diplomacy.v1 import (
    common_pb2,
    event_pb2,
    event_pb2_grpc,
    relation_pb2,
    relation_pb2_grpc,
)
from google.type import date_pb2


def day(year, month=0, day_=0):
    return date_pb2.Date(year=year, month=month, day=day_)


def relation(channel, name, as_of):
    return relation_pb2_grpc.RelationServiceStub(channel).GetRelation(
        relation_pb2.GetRelationRequest(name=name, as_of=as_of)
    )


def test_turkiye_recognises_armenia_and_the_border_is_closed(channel):
    r = relation(channel, "countries/TR/relations/AM", day(2009, 10, 10))
    by = {x.recognizer: x for x in r.recognitions}
    assert by["countries/TR"].standing == relation_pb2.RECOGNITION_STANDING_RECOGNIZED
    assert by["countries/TR"].record == "events/f03"
    assert by["countries/AM"].standing == relation_pb2.RECOGNITION_STANDING_UNKNOWN, "not recorded"
    assert r.border.status == relation_pb2.BORDER_STATUS_CLOSED
    assert (r.border.since.year, r.border.since.month, r.border.since.day) == (1993, 4, 0)
    assert [x.level for x in r.representations] == [common_pb2.REPRESENTATION_LEVEL_UNKNOWN] * 2


def test_who_recognises_azerbaijan(channel):
    answer = relation_pb2_grpc.RelationServiceStub(channel).ListRecognitions(
        relation_pb2.ListRecognitionsRequest(parent="countries/AZ", as_of=day(2000, 1, 1))
    )
    assert [(x.recognizer, x.record) for x in answer.recognitions] == [("countries/TR", "events/f01")]


def levels_event(levels):
    return event_pb2.Event(
        title="Missions of New Zealand and Fiji (test record)",
        kind=event_pb2.EVENT_KIND_REPRESENTATION,
        start_date=day(2001, 3, 1),
        actor="countries/NZ",
        counterparts=["countries/FJ"],
        representation=levels,
        sources=[common_pb2.Source(title="Python client test")],
    )


def test_levels_differ_by_direction_and_leave_the_status_unknown(channel):
    stub = event_pb2_grpc.EventServiceStub(channel)
    stub.CreateEvent(event_pb2.CreateEventRequest(
        event_id="python-missions",
        event=levels_event([
            common_pb2.RepresentationChange(
                sending="countries/NZ", receiving="countries/FJ",
                level=common_pb2.REPRESENTATION_LEVEL_AMBASSADOR),
            common_pb2.RepresentationChange(
                sending="countries/FJ", receiving="countries/NZ",
                level=common_pb2.REPRESENTATION_LEVEL_CHARGE_D_AFFAIRES),
        ]),
    ))
    r = relation(channel, "countries/NZ/relations/FJ", day(2002, 1, 1))
    levels = {x.sending: x.level for x in r.representations}
    assert levels == {
        "countries/FJ": common_pb2.REPRESENTATION_LEVEL_CHARGE_D_AFFAIRES,
        "countries/NZ": common_pb2.REPRESENTATION_LEVEL_AMBASSADOR,
    }
    assert r.diplomatic_status == relation_pb2.DIPLOMATIC_STATUS_UNKNOWN, "levels never set the status"


def test_a_level_off_the_scale_is_refused_naming_the_field(channel):
    stub = event_pb2_grpc.EventServiceStub(channel)
    with pytest.raises(grpc.RpcError) as error:
        stub.CreateEvent(event_pb2.CreateEventRequest(
            event_id="python-off-scale",
            event=levels_event([common_pb2.RepresentationChange(
                sending="countries/NZ", receiving="countries/FJ",
                level=common_pb2.REPRESENTATION_LEVEL_UNKNOWN)]),
        ))
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "event.representation[0].level" in bad_request_fields(error.value)
