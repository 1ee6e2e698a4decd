"""The deploy files agree with the service: probes use gRPC health, the
grace period covers the drain, the Service declares gRPC, Envoy health-checks
over gRPC."""

import pathlib
import re

import yaml

DEPLOY = pathlib.Path(__file__).resolve().parents[3] / "deploy"


def env(container):
    return {e["name"]: e.get("value") for e in container.get("env", [])}


def test_kubernetes_deployment_drains_within_its_grace_period():
    deployment = yaml.safe_load((DEPLOY / "kubernetes" / "deployment.yaml").read_text())
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    variables = env(container)
    drain = int(variables["DIPLOMACY_DRAIN_DELAY_SECS"]) + int(variables["DIPLOMACY_DRAIN_TIMEOUT_SECS"])
    assert pod["terminationGracePeriodSeconds"] > drain
    assert container["readinessProbe"]["grpc"]["port"] == 50051
    assert container["livenessProbe"]["grpc"]["port"] == 50051
    assert container["resources"]["requests"]["memory"]


def test_kubernetes_service_declares_grpc():
    service = yaml.safe_load((DEPLOY / "kubernetes" / "service.yaml").read_text())
    grpc_port = next(p for p in service["spec"]["ports"] if p["name"] == "grpc")
    assert grpc_port["appProtocol"] == "grpc"


def test_envoy_checks_health_over_grpc():
    envoy = yaml.safe_load((DEPLOY / "envoy" / "envoy.yaml").read_text())
    cluster = envoy["static_resources"]["clusters"][0]
    assert "grpc_health_check" in cluster["health_checks"][0]
    filters = envoy["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
    names = [f["name"] for f in filters["typed_config"]["http_filters"]]
    assert names[0] == "envoy.filters.http.grpc_web"


def test_the_container_runs_the_server():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r'ENTRYPOINT \["/usr/local/bin/diplomacy", "serve"\]', dockerfile)
    assert "cargo build --release --locked" in dockerfile
