"""Metrics, scraped with a real HTTP client and parsed with the Prometheus
client library's own parser."""

import urllib.error
import urllib.request

import grpc
from prometheus_client.parser import text_string_to_metric_families

from conftest import Server
from diplomacy.v1 import relation_pb2 as rel
from diplomacy.v1 import relation_pb2_grpc as rel_grpc


def scrape(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        text = response.read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0)


def test_grpc_and_store_metrics():
    server = Server("--admin-listen", "127.0.0.1:0")
    try:
        assert server.metrics_url, "the ready file names the metrics address"
        with grpc.insecure_channel(server.address) as channel:
            stub = rel_grpc.RelationServiceStub(channel)
            for _ in range(3):
                stub.GetRelation(rel.GetRelationRequest(name="countries/TR/relations/AM"))
            try:
                stub.GetRelation(rel.GetRelationRequest(name="countries/TR/relations/TR"))
            except grpc.RpcError as error:
                assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
            entries = list(stub.StreamHistory(rel.StreamHistoryRequest(parent="countries/AM/relations/AZ")))

        samples = scrape(server.metrics_url)
        unary = dict(grpc_service="diplomacy.v1.RelationService", grpc_method="GetRelation", grpc_type="unary")
        assert value(samples, "grpc_server_started_total", **unary) == 4
        assert value(samples, "grpc_server_handled_total", grpc_code="OK", **unary) == 3
        assert value(samples, "grpc_server_handled_total", grpc_code="InvalidArgument", **unary) == 1
        assert value(samples, "grpc_server_msg_received_total", **unary) == 4
        assert value(samples, "grpc_server_handling_seconds_count", **unary) == 4
        stream = dict(grpc_service="diplomacy.v1.RelationService", grpc_method="StreamHistory", grpc_type="server_stream")
        assert value(samples, "grpc_server_msg_sent_total", **stream) == len(entries) > 20
        assert value(samples, "grpc_server_handled_total", grpc_code="OK", **stream) == 1
        assert value(samples, "diplomacy_records", kind="countries") >= 259
        assert value(samples, "diplomacy_database_size_bytes") > 0
        # AM–AZ was asked about: its facts are held in memory.
        assert value(samples, "diplomacy_relation_cache_pairs") >= 1
        assert value(samples, "diplomacy_relation_cache_bytes") > 0
    finally:
        server.stop()


def test_a_get_of_the_http_mapping_is_counted_as_its_grpc_method():
    server = Server("--admin-listen", "127.0.0.1:0")
    try:
        for path in ["/v1/treaties/t02", "/v1/treaties/t02", "/v1/treaties/nope"]:
            try:
                urllib.request.urlopen(f"http://{server.address}{path}", timeout=10).close()
            except urllib.error.HTTPError as error:
                assert error.code == 404
        samples = scrape(server.metrics_url)
        unary = dict(grpc_service="diplomacy.v1.TreatyService", grpc_method="GetTreaty", grpc_type="unary")
        assert value(samples, "grpc_server_handled_total", grpc_code="OK", **unary) == 2
        assert value(samples, "grpc_server_handled_total", grpc_code="NotFound", **unary) == 1
    finally:
        server.stop()
