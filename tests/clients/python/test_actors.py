"""Actors and roles from Python: actors beside states, mediations over
their periods (a host never mediates), and conflicts with two sides."""

import grpc
import pytest

from test_resources import bad_request_fields
from diplomacy.v1 import (
    actor_pb2,
    actor_pb2_grpc,
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


@pytest.mark.parametrize(
    "as_of, mediators, why",
    [
        (day(1994, 5, 20), ["actors/osce-minsk-group", "countries/RU"], "Russia mediated the May 1994 texts"),
        (day(2024, 5, 10), ["actors/osce-minsk-group"], "Kazakhstan hosted Almaty as a venue"),
        (day(2024, 7, 15), ["actors/osce-minsk-group", "countries/US"], "the US from July 2024"),
        (day(2026, 1, 1), [], "every mediation had ended"),
    ],
)
def test_mediations_of_armenia_and_azerbaijan(channel, as_of, mediators, why):
    r = relation(channel, "countries/AM/relations/AZ", as_of)
    assert [m.mediator for m in r.mediations] == mediators, why
    assert r.mediations_count == len(mediators)


def test_the_minsk_group_mediates_from_1992_at_year_precision(channel):
    r = relation(channel, "countries/AM/relations/AZ", day(2000, 1, 1))
    minsk = r.mediations[0]
    assert minsk.mediator == "actors/osce-minsk-group"
    assert minsk.role == common_pb2.PARTICIPANT_ROLE_MEDIATOR
    assert (minsk.start_date.year, minsk.start_date.month) == (1992, 0)
    assert minsk.end_date.year == 2025
    assert list(minsk.records) == ["events/x01"]


def test_c03_is_not_a_war_between_armenia_and_azerbaijan(channel):
    r = relation(channel, "countries/AM/relations/AZ", day(2023, 9, 19))
    assert r.armed_conflicts_count == 0
    c03 = event_pb2_grpc.EventServiceStub(channel).GetEvent(event_pb2.GetEventRequest(name="events/c03"))
    assert [b.participant for b in c03.side_b] == ["actors/nagorno-karabakh-authorities"]
    assert c03.side_a[0].standing == event_pb2.BELLIGERENT_STANDING_PRIMARY


def test_russia_is_not_bound_by_the_2020_statement_it_guaranteed(channel):
    r = relation(channel, "countries/RU/relations/AZ", day(2021, 1, 1))
    assert "treaties/t03" not in [t.name for t in r.treaties_in_force]
    r = relation(channel, "countries/AM/relations/AZ", day(2021, 1, 1))
    assert "treaties/t03" in [t.name for t in r.treaties_in_force]


def test_actors_list_by_kind(channel):
    stub = actor_pb2_grpc.ActorServiceStub(channel)
    page = stub.ListActors(actor_pb2.ListActorsRequest(kind=actor_pb2.ACTOR_KIND_DE_FACTO_AUTHORITY))
    assert [a.name for a in page.actors] == ["actors/nagorno-karabakh-authorities"]
    authorities = page.actors[0]
    assert authorities.existence[0].start_date.year == 1991


def test_an_unknown_actor_kind_names_the_field(channel):
    stub = actor_pb2_grpc.ActorServiceStub(channel)
    with pytest.raises(grpc.RpcError) as err:
        stub.ListActors(actor_pb2.ListActorsRequest(kind=99))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert bad_request_fields(err.value) == ["kind"]
