"""The deploy files agree with the service: probes use gRPC health, the
grace period covers the drain, the Service declares gRPC, Envoy health-checks
over gRPC."""

import json
import pathlib
import re
import shutil
import subprocess
import tempfile

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"


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


def test_the_container_copies_what_cargo_needs_to_read_the_workspace():
    """The build stage's COPY lines, replayed into an empty folder: cargo
    reads the workspace there (every member present), as it must in the
    image. No Docker engine runs here, so this is the next best check."""
    build_stage = (DEPLOY / "Dockerfile").read_text().split("FROM debian")[0]
    with tempfile.TemporaryDirectory() as folder:
        context = pathlib.Path(folder)
        for line in build_stage.splitlines():
            if line.startswith("COPY "):
                *sources, destination = line.split()[1:]
                for source in sources:
                    into = context / source if destination == "./" else context / destination
                    if (ROOT / source).is_dir():
                        shutil.copytree(ROOT / source, into)
                    else:
                        shutil.copy(ROOT / source, into)
        result = subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--locked", "--offline", "--no-deps"],
            cwd=context, capture_output=True, text=True,
        )
        assert result.returncode == 0, result.stderr
        packages = {p["name"] for p in json.loads(result.stdout)["packages"]}
        assert {"diplomacy", "diplomacy-tools"} <= packages
