"""The PostgreSQL peer (#30) answers as GetRelation does: 1,000 random
(pair, date) questions put to the real server and to PostgreSQL 15 loaded
with the same records (benches/postgres/), compared field by field: the
status and since when, the treaties in force and the armed conflicts (names
and counts), the meeting count and the mediators."""

import json
import os
import pathlib
import random
import shutil
import socket
import subprocess
import tempfile

import grpc
import pytest

from conftest import ROOT, TOKEN, Server, _Bearer, _binary
from diplomacy.v1 import relation_pb2, relation_pb2_grpc
from google.type import date_pb2

PEER = ROOT / "benches" / "postgres" / "peer.sh"
QUESTIONS = 1_000
SEED = 5
# The seed region's states, whose built-in facts carry what the generated
# ones do not: roles, places, sides, per-party dates, continuation.
SEED_STATES = ["AM", "AZ", "TR", "RU", "SU", "GE", "IR", "US", "FR"]
SEED_PAIRS = [("AM", "AZ"), ("AZ", "AM"), ("TR", "AM"), ("TR", "AZ")]


def tools_binary():
    path = pathlib.Path(os.environ.get("DIPLOMACY_TOOLS_BIN", _binary().parent / "diplomacy-tools"))
    if not path.exists():
        raise RuntimeError(f"{path} not found: build it with `cargo build --workspace` (tests/run.sh does)")
    return path


def run(*args, **kwargs):
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{args[0]} failed: {done.stderr}"
    return done.stdout


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def peers():
    """The server on a seeded data dir with a small generated dataset
    imported, and PostgreSQL loaded from that data dir's export."""
    work = pathlib.Path(tempfile.mkdtemp(prefix="diplomacy-pg-peer-"))
    seeding = Server()
    seeding.process.terminate()
    assert seeding.process.wait(timeout=20) == 0
    data_dir = seeding.data_dir
    facts, export, pairs = work / "facts.jsonl", work / "export.jsonl", work / "pairs.csv"
    run(tools_binary(), "generate", "--seed", SEED, "--scale", "0.005", "--output", facts)
    run(_binary(), "import", facts, "--data-dir", data_dir)
    export.write_text(run(_binary(), "export", "--data-dir", data_dir))
    pairs.write_text(run(tools_binary(), "pairs", "--seed", SEED))
    pgdata, port = work / "pgdata", free_port()
    server = None
    try:
        run("bash", PEER, "start", pgdata, port)
        run("bash", PEER, "load", port, export, pairs)
        server = Server(data_dir=data_dir)
        yield server, port, [line.split(",")[1:] for line in pairs.read_text().split()]
    finally:
        if server is not None:
            server.stop()
        subprocess.run(["bash", str(PEER), "stop", str(pgdata)], check=False)
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(data_dir, ignore_errors=True)


def questions(pairs):
    """Pairs drawn as the load generator draws them (index n·u⁴ of its
    list, so busy pairs come often), a tenth among every country the server
    knows, former states included, and a tenth among the seed region's
    states (half of it among the pairs of its facts); dates as the generator writes them (a day, a month or a year,
    1945–2025), some from 1900."""
    rng = random.Random(SEED)
    codes = sorted({code for pair in pairs for code in pair} | {"SU", "YU", "CS", "DD", "DE", "SS", "SD", "RU", "AM", "AZ", "TR"})
    asked = []
    for _ in range(QUESTIONS):
        draw = rng.random()
        if draw < 0.8:
            a, b = pairs[min(int(len(pairs) * rng.random() ** 4), len(pairs) - 1)]
        elif draw < 0.9:
            a, b = rng.sample(codes, 2)
        elif draw < 0.95:
            a, b = rng.sample(SEED_STATES, 2)
        else:
            a, b = rng.choice(SEED_PAIRS)
        if draw >= 0.9:
            year = rng.randint(1988, 2025)
        elif rng.random() < 0.1:
            year = rng.randint(1900, 2025)
        else:
            year = rng.randint(1945, 2025)
        month, day = rng.randint(1, 12), rng.randint(1, 28)
        precision = rng.randrange(10)
        if precision == 0:
            month, day = 0, 0
        elif precision <= 2:
            day = 0
        asked.append((a, b, year, month, day))
    return asked


def date_text(date):
    if not date.year:
        return None
    if not date.month:
        return f"{date.year:04d}"
    if not date.day:
        return f"{date.year:04d}-{date.month:02d}"
    return f"{date.year:04d}-{date.month:02d}-{date.day:02d}"


def from_server(channel, a, b, year, month, day):
    r = relation_pb2_grpc.RelationServiceStub(channel).GetRelation(
        relation_pb2.GetRelationRequest(
            name=f"countries/{a}/relations/{b}",
            as_of=date_pb2.Date(year=year, month=month, day=day),
            view=relation_pb2.RELATION_VIEW_FULL,
        )
    )
    status = relation_pb2.DiplomaticStatus.Name(r.diplomatic_status).removeprefix("DIPLOMATIC_STATUS_")
    return {
        "status": status,
        "since": date_text(r.status_since) if r.HasField("status_since") else None,
        "treaties": sorted(t.name for t in r.treaties_in_force),
        "treaty_count": r.treaties_in_force_count,
        "conflicts": sorted(c.name for c in r.armed_conflicts),
        "conflict_count": r.armed_conflicts_count,
        "meeting_count": r.meeting_count,
        "mediators": sorted(m.removeprefix("countries/") for m in r.mediators),
    }


def from_postgres(port, asked):
    values = ",".join(f"({i},'{a}','{b}',{y},{m},{d})" for i, (a, b, y, m, d) in enumerate(asked))
    query = (
        "SELECT json_build_object('i', q.i, 'answer', to_json(r)) FROM (VALUES "
        + values
        + ") q(i, a, b, y, m, d), LATERAL relation(q.a, q.b, q.y, q.m, q.d) r ORDER BY q.i"
    )
    out = run("psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", port, "-U", "postgres",
              "-d", "postgres", "-c", query)
    answers = [json.loads(line)["answer"] for line in out.splitlines()]
    assert len(answers) == len(asked)
    return [
        {
            "status": r["status"],
            "since": r["since"],
            "treaties": sorted(r["treaties"] or []),
            "treaty_count": r["treaty_count"] or 0,
            "conflicts": sorted(r["conflicts"] or []),
            "conflict_count": r["conflict_count"] or 0,
            "meeting_count": r["meeting_count"] or 0,
            "mediators": sorted(r["mediators"] or []),
        }
        for r in answers
    ]


def test_postgres_answers_the_same_as_get_relation(peers):
    server, port, pairs = peers
    asked = questions(pairs)
    with grpc.insecure_channel(server.address) as plain:
        channel = grpc.intercept_channel(plain, _Bearer())
        ours = [from_server(channel, *q) for q in asked]
    theirs = from_postgres(port, asked)
    differences = [(q, o, t) for q, o, t in zip(asked, ours, theirs) if o != t]
    assert not differences, f"{len(differences)} of {len(asked)} answers differ; the first: " + "\n".join(
        f"{q}: ours {o}, PostgreSQL's {t}" for q, o, t in differences[:5]
    )
    # The questions reach every part of the answer, so agreement means something.
    statuses = {o["status"] for o in ours}
    assert {"UNKNOWN", "NOT_APPLICABLE", "ESTABLISHED", "SEVERED", "NONE"} <= statuses, statuses
    assert sum(o["treaty_count"] > 0 for o in ours) >= 50
    assert sum(o["conflict_count"] > 0 for o in ours) >= 10
    assert sum(bool(o["mediators"]) for o in ours) >= 50
    assert sum(o["meeting_count"] > 0 for o in ours) >= 100
    assert any(o["since"] and len(o["since"]) < 10 for o in ours), "partial dates among the answers"
    seed_third_parties = [o for q, o in zip(asked, ours) if {q[0], q[1]} == {"AM", "AZ"} and o["mediators"]]
    assert seed_third_parties, "Armenia–Azerbaijan's third parties (roles, places) among the answers"
