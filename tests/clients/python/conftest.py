"""Python client suite: stubs generated from proto/ at test time with
grpcio-tools, and the real `diplomacy` binary started on an ephemeral port."""

import atexit
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

import grpc
import pytest
from grpc_tools import protoc

ROOT = pathlib.Path(__file__).resolve().parents[3]
PROTO = ROOT / "proto"
GENERATED = pathlib.Path(tempfile.mkdtemp(prefix="diplomacy-py-stubs-"))
# Removed when the interpreter exits, so that runs do not pile up in /tmp.
atexit.register(shutil.rmtree, GENERATED, ignore_errors=True)
# The read-write token the suite's server accepts; writes send it.
TOKEN = "python-suite-token-0123456789"


def _generate_stubs():
    files = sorted(str(p.relative_to(PROTO)) for p in (PROTO / "diplomacy" / "v1").glob("*.proto"))
    include = pathlib.Path(protoc.__file__).parent / "_proto"
    # google/type/date.proto comes from googleapis-common-protos at run time,
    # so only the diplomacy files are generated.
    code = protoc.main(
        ["protoc", f"-I{PROTO}", f"-I{include}", f"--python_out={GENERATED}", f"--grpc_python_out={GENERATED}", *files]
    )
    if code != 0:
        raise RuntimeError(f"grpc_tools.protoc failed with {code}")
    sys.path.insert(0, str(GENERATED))


_generate_stubs()


def _binary():
    path = pathlib.Path(os.environ.get("DIPLOMACY_BIN", ROOT / "target" / "debug" / "diplomacy"))
    if not path.exists():
        raise RuntimeError(f"{path} not found: build it first with `cargo build` (tests/run.sh does)")
    return path


def _wait_for_ready_file(path, process, timeout=60):
    """The server's ready file (`serve --ready-file`), once it is written."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # A file naming another process was left by one that was killed.
        ready = json.loads(path.read_text()) if path.exists() else None
        if ready is not None and ready["pid"] == process.pid:
            return ready
        if process.poll() is not None:
            raise RuntimeError(f"the server exited ({process.returncode}) before it was ready")
        time.sleep(0.02)
    process.kill()
    raise RuntimeError(f"the server was not ready within {timeout} s")


class Server:
    def __init__(self, *extra_args, data_dir=None):
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="diplomacy-py-data-")
        ready_file = pathlib.Path(self.data_dir) / "ready.json"
        self.process = subprocess.Popen(
            [str(_binary()), "serve", "--listen", "127.0.0.1:0", "--data-dir", self.data_dir,
             "--ready-file", str(ready_file), *extra_args],
            stderr=subprocess.DEVNULL,
            env={**os.environ, "RUST_LOG": "warn", "DIPLOMACY_TOKEN": TOKEN, "DIPLOMACY_DRAIN_DELAY_SECS": "0"},
        )
        ready = _wait_for_ready_file(ready_file, self.process)
        self.address = ready["grpc"]
        self.pid = ready["pid"]
        self.metrics_url = f"http://{ready['admin']}/metrics" if ready["admin"] else None

    def stop(self):
        self.process.terminate()
        try:
            assert self.process.wait(timeout=20) == 0, "the server stops cleanly on SIGTERM"
        finally:
            shutil.rmtree(self.data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def server():
    running = Server()
    yield running
    running.stop()


class _Bearer(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor,
              grpc.StreamUnaryClientInterceptor):
    """Adds `authorization: Bearer TOKEN` to every call."""

    def _with_token(self, details):
        metadata = list(details.metadata or []) + [("authorization", f"Bearer {TOKEN}")]
        return details._replace(metadata=metadata) if hasattr(details, "_replace") else _Details(details, metadata)

    def intercept_unary_unary(self, continuation, details, request):
        return continuation(self._with_token(details), request)

    def intercept_unary_stream(self, continuation, details, request):
        return continuation(self._with_token(details), request)

    def intercept_stream_unary(self, continuation, details, requests):
        return continuation(self._with_token(details), requests)


class _Details(grpc.ClientCallDetails):
    def __init__(self, details, metadata):
        self.method = details.method
        self.timeout = details.timeout
        self.metadata = metadata
        self.credentials = details.credentials
        self.wait_for_ready = details.wait_for_ready
        self.compression = details.compression


@pytest.fixture(scope="session")
def channel(server):
    with grpc.insecure_channel(server.address) as chan:
        grpc.channel_ready_future(chan).result(timeout=10)
        yield grpc.intercept_channel(chan, _Bearer())
