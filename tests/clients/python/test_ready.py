"""The readiness contract: `serve --ready-file` names the addresses and the
process, is written once the server answers, and is gone once it stops."""

import pathlib

import grpc

from conftest import Server
from diplomacy.v1 import relation_pb2 as rel
from diplomacy.v1 import relation_pb2_grpc as rel_grpc


def test_the_ready_file_names_a_serving_server_and_goes_when_it_stops():
    server = Server("--admin-listen", "127.0.0.1:0")
    ready_file = pathlib.Path(server.data_dir) / "ready.json"
    try:
        assert server.pid == server.process.pid
        assert server.metrics_url.startswith("http://127.0.0.1:")
        with grpc.insecure_channel(server.address) as channel:
            stub = rel_grpc.RelationServiceStub(channel)
            relation = stub.GetRelation(rel.GetRelationRequest(name="countries/TR/relations/AM"), timeout=5)
            assert relation.name == "countries/TR/relations/AM"
        assert ready_file.exists()
    finally:
        server.process.terminate()
        assert server.process.wait(timeout=20) == 0
    assert not ready_file.exists(), "a stopped server is not ready"
    server.stop()
