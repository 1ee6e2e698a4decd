"""The deploy files agree with the service: probes use gRPC health, the
grace period covers the drain, the Service declares gRPC, Envoy health-checks
over gRPC."""

import json
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"


def env(container):
    return {e["name"]: e.get("value") for e in container.get("env", [])}


KUBERNETES = DEPLOY / "kubernetes"


def documents(name):
    return [d for d in yaml.safe_load_all((KUBERNETES / name).read_text()) if d]


def workload(name):
    return next(d for d in documents(name) if d["kind"] in ("Deployment", "StatefulSet"))


def test_every_manifest_passes_the_kubernetes_schema_strictly():
    """No cluster runs here: kubernetes-validate checks each resource against
    the API's own schema, rejecting unknown fields."""
    validate = pathlib.Path(sys.executable).parent / "kubernetes-validate"
    manifests = sorted(str(p) for p in KUBERNETES.glob("*.yaml"))
    result = subprocess.run(
        [str(validate), "--strict", *manifests], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("passed") == sum(len(documents(pathlib.Path(m).name)) for m in manifests)


def test_each_workload_drains_within_its_grace_period_and_probes_over_grpc():
    for name in ("embedded.yaml", "replicas.yaml"):
        pod = workload(name)["spec"]["template"]["spec"]
        container = pod["containers"][0]
        variables = env(container)
        drain = int(variables["DIPLOMACY_DRAIN_DELAY_SECS"]) + int(variables["DIPLOMACY_DRAIN_TIMEOUT_SECS"])
        assert pod["terminationGracePeriodSeconds"] > drain, name
        assert container["readinessProbe"]["grpc"]["port"] == 50051, name
        assert container["livenessProbe"]["grpc"]["port"] == 50051, name
        assert container["resources"]["requests"]["memory"], name


def mebibytes(quantity):
    """A Kubernetes memory quantity in MiB (Mi and Gi only: what the
    manifests use)."""
    number, unit = re.fullmatch(r"(\d+)(Mi|Gi)", quantity).groups()
    return int(number) * (1024 if unit == "Gi" else 1)


def test_memory_requests_and_limits_come_from_the_figures_written_beside_them():
    """Each workload states what its memory was measured with (the caches,
    the data size) and the figures; the request covers the steady figure
    and the limit is at least 1.4x the peak, for the caches the pod sets."""
    for name in ("embedded.yaml", "replicas.yaml"):
        text = (KUBERNETES / name).read_text()
        comment = text[text.index("# Memory, measured"):text.index("resources:", text.index("# Memory, measured"))]
        prose = " ".join(line.strip().lstrip("#").strip() for line in comment.splitlines())
        steady, peak = map(int, re.search(r"steady (\d+) MiB, peak (\d+) MiB", prose).groups())
        assert re.search(r"sized for about [\d,]+ records", prose), name
        container = workload(name)["spec"]["template"]["spec"]["containers"][0]
        variables = env(container)
        caches = re.search(r"DIPLOMACY_CACHE_MB (\d+), DIPLOMACY_RELATION_CACHE_MB (\d+)", prose).groups()
        assert caches == (variables["DIPLOMACY_CACHE_MB"], variables["DIPLOMACY_RELATION_CACHE_MB"]), name
        memory = container["resources"]
        assert mebibytes(memory["requests"]["memory"]) >= steady, name
        assert mebibytes(memory["limits"]["memory"]) >= 1.4 * peak, name


def test_the_embedded_database_is_one_process_on_a_persistent_volume():
    embedded = workload("embedded.yaml")
    assert embedded["spec"]["replicas"] == 1
    claims = [c["metadata"]["name"] for c in embedded["spec"]["volumeClaimTemplates"]]
    mounts = embedded["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
    assert "data" in claims and any(m["name"] == "data" for m in mounts)
    assert "DIPLOMACY_ETCD_ENDPOINTS" not in env(embedded["spec"]["template"]["spec"]["containers"][0])


def test_replicas_share_etcd_and_rebuild_their_index_until_ready():
    replicas = workload("replicas.yaml")
    assert replicas["spec"]["replicas"] >= 3
    pod = replicas["spec"]["template"]["spec"]
    container = pod["containers"][0]
    endpoints = env(container)["DIPLOMACY_ETCD_ENDPOINTS"].split(",")
    etcd = workload("etcd.yaml")
    members = etcd["spec"]["replicas"]
    assert len(endpoints) == members == 3
    for i, endpoint in enumerate(endpoints):
        assert endpoint == f"http://etcd-{i}.etcd:2379"
    index = next(v for v in pod["volumes"] if v["name"] == "index")
    assert "emptyDir" in index, "the index is derived from etcd and rebuilt on start"
    # Ready only once the snapshot is in: the server is NOT_SERVING until then.
    assert container["startupProbe"]["grpc"]["port"] == 50051
    assert container["startupProbe"]["failureThreshold"] * container["startupProbe"]["periodSeconds"] >= 300


def test_no_manifest_runs_several_embedded_processes():
    for path in KUBERNETES.glob("*.yaml"):
        for document in documents(path.name):
            if document.get("kind") not in ("Deployment", "StatefulSet"):
                continue
            container = document["spec"]["template"]["spec"]["containers"][0]
            if container["name"] == "diplomacy" and document["spec"]["replicas"] > 1:
                assert "DIPLOMACY_ETCD_ENDPOINTS" in env(container), path.name


def test_the_etcd_members_find_each_other():
    etcd = workload("etcd.yaml")
    args = etcd["spec"]["template"]["spec"]["containers"][0]["args"]
    initial = next(a for a in args if a.startswith("--initial-cluster="))
    assert initial.count("http://etcd-") == etcd["spec"]["replicas"]
    assert etcd["spec"]["podManagementPolicy"] == "Parallel"
    service = next(d for d in documents("etcd.yaml") if d["kind"] == "Service")
    assert service["spec"]["clusterIP"] == "None" and service["spec"]["publishNotReadyAddresses"]


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
