"""States in time from Python: NOT_APPLICABLE, continuation and code lookup."""

import grpc
import pytest

from test_resources import bad_request_fields
from diplomacy.v1 import country_pb2, country_pb2_grpc, relation_pb2, relation_pb2_grpc
from google.type import date_pb2


def day(year, month=0, day_=0):
    return date_pb2.Date(year=year, month=month, day=day_)


def relation(channel, name, as_of):
    return relation_pb2_grpc.RelationServiceStub(channel).GetRelation(
        relation_pb2.GetRelationRequest(name=name, as_of=as_of)
    )


def lookup(channel, scheme, code, date=None):
    request = country_pb2.LookupCountryRequest(scheme=scheme, code=code)
    if date is not None:
        request.date.CopyFrom(date)
    return country_pb2_grpc.CountryServiceStub(channel).LookupCountry(request)


def test_armenia_and_azerbaijan_before_independence_is_not_applicable(channel):
    r = relation(channel, "countries/AM/relations/AZ", day(1989))
    assert r.diplomatic_status == relation_pb2.DIPLOMATIC_STATUS_NOT_APPLICABLE
    assert sorted(r.nonexistent_countries) == ["countries/AM", "countries/AZ"]
    assert list(r.armed_conflicts) == []


def test_a_fact_of_1991_counts_from_the_day_both_existed(channel):
    r = relation(channel, "countries/AM/relations/AZ", day(1992, 1, 1))
    assert r.diplomatic_status == relation_pb2.DIPLOMATIC_STATUS_NONE
    assert (r.status_since.year, r.status_since.month, r.status_since.day) == (1991, 10, 18)


def test_russia_before_1991_answers_as_the_ussr(channel):
    r = relation(channel, "countries/RU/relations/US", day(1980, 1, 1))
    assert [(s.asked, s.answered) for s in r.answered_for] == [("countries/RU", "countries/SU")]
    assert "countries/SU" in r.countries


def test_cow_code_365_is_three_states_in_time(channel):
    scheme = country_pb2.COUNTRY_CODE_SCHEME_COW_CODE
    assert [m.country.name for m in lookup(channel, scheme, "365", day(1900)).matches] == ["countries/cow-rus"]
    assert [m.country.name for m in lookup(channel, scheme, "365", day(1980)).matches] == ["countries/SU"]
    assert [m.country.name for m in lookup(channel, scheme, "365", day(2000)).matches] == ["countries/RU"]
    su = lookup(channel, scheme, "365", day(1980)).matches[0]
    assert (su.start_date.year, su.end_date.year) == (1922, 1991)


def test_lookup_without_a_scheme_names_the_field(channel):
    with pytest.raises(grpc.RpcError) as error:
        lookup(channel, country_pb2.COUNTRY_CODE_SCHEME_UNSPECIFIED, "365")
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert bad_request_fields(error.value) == ["scheme"]


def test_the_ussr_names_its_successors_typed(channel):
    su = country_pb2_grpc.CountryServiceStub(channel).GetCountry(country_pb2.GetCountryRequest(name="countries/SU"))
    kinds = {s.country: s.kind for s in su.successor_states}
    assert kinds["countries/RU"] == country_pb2.SUCCESSION_KIND_CONTINUATION
    assert kinds["countries/UA"] == country_pb2.SUCCESSION_KIND_SUCCESSION
    assert su.iso3166_3_code == "SUHH"
    assert [p.year for p in [su.existence[0].start_date, su.existence[0].end_date]] == [1922, 1991]
