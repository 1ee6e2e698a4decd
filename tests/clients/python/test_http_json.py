"""The HTTP/JSON mapping from Python's standard library alone: a plain
HTTP GET, proto3 JSON back, errors as google.rpc.Status JSON."""

import json
import urllib.error
import urllib.request


def get(server, path):
    url = f"http://{server.address}{path}"
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_a_relation_over_plain_http(server):
    code, relation = get(server, "/v1/countries/TR/relations/AM?as_of=2009-10-10")
    assert code == 200
    assert relation["diplomaticStatus"] == "DIPLOMATIC_STATUS_NONE"
    assert relation["border"]["status"] == "BORDER_STATUS_CLOSED"


def test_a_bad_date_is_400_with_the_field_named(server):
    code, status = get(server, "/v1/countries/TR/relations/AM?as_of=2024-02-30")
    assert code == 400
    assert status["code"] == 3
    violations = status["details"][0]["fieldViolations"]
    assert [v["field"] for v in violations] == ["as_of"]
