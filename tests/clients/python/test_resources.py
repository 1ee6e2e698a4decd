"""The standard methods of every resource service, and the rich error model."""

import grpc
import pytest
from google.protobuf import field_mask_pb2
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from diplomacy.v1 import common_pb2, country_pb2, country_pb2_grpc, event_pb2, event_pb2_grpc
from diplomacy.v1 import meeting_pb2, meeting_pb2_grpc, relation_pb2, relation_pb2_grpc
from diplomacy.v1 import treaty_pb2, treaty_pb2_grpc
from google.type import date_pb2

SOURCE = common_pb2.Source(title="Python client test", publisher="tests")


def bad_request_fields(error):
    status = rpc_status.from_call(error)
    assert status is not None, "the error carries google.rpc.Status details"
    fields = []
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            fields.extend(v.field for v in bad.field_violations)
    return fields


def test_countries(channel):
    stub = country_pb2_grpc.CountryServiceStub(channel)
    tr = stub.GetCountry(country_pb2.GetCountryRequest(name="countries/TR"))
    assert (tr.display_name, tr.alpha3, tr.region) == ("Türkiye", "TUR", "Asia")

    names, token = [], ""
    while True:
        page = stub.ListCountries(country_pb2.ListCountriesRequest(page_size=100, page_token=token))
        names += [c.name for c in page.countries]
        token = page.next_page_token
        if not token:
            break
    assert len(names) >= 259 and names == sorted(names)

    # Names as people type them resolve the same way for every client.
    for query in ["Türkiye", "turkiye", "Turkey", "tr", "TUR", "792"]:
        found = stub.SearchCountries(country_pb2.SearchCountriesRequest(query=query)).matches
        assert (found[0].country.name, found[0].score) == ("countries/TR", 1.0), query
    near = stub.SearchCountries(country_pb2.SearchCountriesRequest(query="Armenja")).matches
    assert near[0].country.name == "countries/AM" and near[0].score < 1.0
    assert near[0].kind == country_pb2.COUNTRY_MATCH_KIND_SIMILAR
    assert list(stub.SearchCountries(country_pb2.SearchCountriesRequest(query="Atlantis")).matches) == []
    with pytest.raises(grpc.RpcError) as empty:
        stub.SearchCountries(country_pb2.SearchCountriesRequest(query=" "))
    assert empty.value.code() == grpc.StatusCode.INVALID_ARGUMENT

    created = stub.CreateCountry(country_pb2.CreateCountryRequest(
        country_id="XA", country=country_pb2.Country(display_name="Testland", sources=[SOURCE])))
    assert created.name == "countries/XA"
    updated = stub.UpdateCountry(country_pb2.UpdateCountryRequest(
        country=country_pb2.Country(name="countries/XA", official_name="Republic of Testland"),
        update_mask=field_mask_pb2.FieldMask(paths=["official_name"])))
    assert (updated.display_name, updated.official_name) == ("Testland", "Republic of Testland")
    stub.DeleteCountry(country_pb2.DeleteCountryRequest(name="countries/XA"))
    with pytest.raises(grpc.RpcError) as missing:
        stub.GetCountry(country_pb2.GetCountryRequest(name="countries/XA"))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND


def test_treaties(channel):
    stub = treaty_pb2_grpc.TreatyServiceStub(channel)
    treaty = treaty_pb2.Treaty(
        title="Python Accord", kind=treaty_pb2.TREATY_KIND_TRADE, status=treaty_pb2.TREATY_STATUS_SIGNED,
        signed_date=date_pb2.Date(year=2020, month=5),
        parties=[treaty_pb2.TreatyParty(country="countries/FR"), treaty_pb2.TreatyParty(country="countries/DE")],
        sources=[SOURCE])
    created = stub.CreateTreaty(treaty_pb2.CreateTreatyRequest(treaty=treaty, treaty_id="python-accord"))
    assert created.signed_date.day == 0, "month precision kept"
    assert stub.GetTreaty(treaty_pb2.GetTreatyRequest(name=created.name)) == created
    listed = stub.ListTreaties(treaty_pb2.ListTreatiesRequest(party="countries/FR"))
    assert created.name in [t.name for t in listed.treaties]
    updated = stub.UpdateTreaty(treaty_pb2.UpdateTreatyRequest(
        treaty=treaty_pb2.Treaty(name=created.name, summary="Amended"),
        update_mask=field_mask_pb2.FieldMask(paths=["summary"])))
    assert updated.summary == "Amended" and updated.title == "Python Accord"
    with pytest.raises(grpc.RpcError) as exists:
        stub.CreateTreaty(treaty_pb2.CreateTreatyRequest(treaty=treaty, treaty_id="python-accord"))
    assert exists.value.code() == grpc.StatusCode.ALREADY_EXISTS
    stub.DeleteTreaty(treaty_pb2.DeleteTreatyRequest(name=created.name))


def test_meetings(channel):
    stub = meeting_pb2_grpc.MeetingServiceStub(channel)
    meeting = meeting_pb2.Meeting(
        title="Python talks", kind=meeting_pb2.MEETING_KIND_BILATERAL_TALKS,
        start_date=date_pb2.Date(year=2030, month=1, day=2), host_country="countries/CH",
        participants=[meeting_pb2.Participant(person="A", country="countries/AM"),
                      meeting_pb2.Participant(person="B", country="countries/AZ")],
        sources=[SOURCE])
    created = stub.CreateMeeting(meeting_pb2.CreateMeetingRequest(meeting=meeting, meeting_id="python-talks"))
    relation = relation_pb2_grpc.RelationServiceStub(channel).GetRelation(relation_pb2.GetRelationRequest(
        name="countries/AM/relations/AZ", as_of=date_pb2.Date(year=2030)))
    assert relation.latest_meeting.name == created.name
    assert "countries/CH" in relation.mediators
    page = stub.ListMeetings(meeting_pb2.ListMeetingsRequest(participant="countries/AZ", page_size=2))
    assert len(page.meetings) == 2 and page.next_page_token
    stub.UpdateMeeting(meeting_pb2.UpdateMeetingRequest(meeting=meeting_pb2.Meeting(name=created.name, summary="x"),
                                                        update_mask=field_mask_pb2.FieldMask(paths=["summary"])))
    assert stub.GetMeeting(meeting_pb2.GetMeetingRequest(name=created.name)).summary == "x"
    stub.DeleteMeeting(meeting_pb2.DeleteMeetingRequest(name=created.name))


def test_events(channel):
    stub = event_pb2_grpc.EventServiceStub(channel)
    event = event_pb2.Event(
        title="Python event", kind=event_pb2.EVENT_KIND_BORDER_OPENED, start_date=date_pb2.Date(year=2031),
        actor="countries/TR", counterparts=["countries/AM"], sources=[SOURCE])
    created = stub.CreateEvent(event_pb2.CreateEventRequest(event=event, event_id="python-event"))
    assert stub.GetEvent(event_pb2.GetEventRequest(name=created.name)).title == "Python event"
    listed = stub.ListEvents(event_pb2.ListEventsRequest(country="countries/AM", page_size=1000))
    assert created.name in [e.name for e in listed.events]
    stub.UpdateEvent(event_pb2.UpdateEventRequest(event=event_pb2.Event(name=created.name, title="Renamed"),
                                                  update_mask=field_mask_pb2.FieldMask(paths=["title"])))
    stub.DeleteEvent(event_pb2.DeleteEventRequest(name=created.name))


def test_bad_requests_name_their_fields(channel):
    relations = relation_pb2_grpc.RelationServiceStub(channel)
    with pytest.raises(grpc.RpcError) as same:
        relations.GetRelation(relation_pb2.GetRelationRequest(name="countries/TR/relations/TR"))
    assert same.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert bad_request_fields(same.value) == ["name"]

    with pytest.raises(grpc.RpcError) as impossible:
        relations.GetRelation(relation_pb2.GetRelationRequest(
            name="countries/TR/relations/AM", as_of=date_pb2.Date(year=2024, month=2, day=30)))
    assert bad_request_fields(impossible.value) == ["as_of"]

    events = event_pb2_grpc.EventServiceStub(channel)
    with pytest.raises(grpc.RpcError) as invalid:
        events.CreateEvent(event_pb2.CreateEventRequest(event=event_pb2.Event(actor="countries/TR"), event_id="x"))
    fields = bad_request_fields(invalid.value)
    assert {"event.title", "event.kind", "event.start_date", "event.counterparts", "event.sources"} <= set(fields)

    with pytest.raises(grpc.RpcError) as unknown:
        events.CreateEvent(event_pb2.CreateEventRequest(event=event_pb2.Event(
            title="t", kind=event_pb2.EVENT_KIND_OTHER, start_date=date_pb2.Date(year=2000),
            actor="countries/TR", counterparts=["countries/QQ"], sources=[SOURCE]), event_id="x"))
    assert unknown.value.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_writes_need_a_token(server):
    with grpc.insecure_channel(server.address) as anonymous:
        stub = event_pb2_grpc.EventServiceStub(anonymous)
        with pytest.raises(grpc.RpcError) as refused:
            stub.DeleteEvent(event_pb2.DeleteEventRequest(name="events/f01"))
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        # Reads stay open.
        assert stub.GetEvent(event_pb2.GetEventRequest(name="events/f01")).name == "events/f01"
