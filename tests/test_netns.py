"""The multi-worker servers are reachable through loopback only (issue 11, section 1)."""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tf2bench.errors import MeasurementError
from tf2bench.harness import netns
from tf2bench.harness.workers import LocalCluster

# Listens like TensorFlow's GrpcServer: on 0.0.0.0 and [::] at its TF_CONFIG port.
LISTENING_WORKER = """
import json, os, socket, sys
config = json.loads(os.environ["TF_CONFIG"])
port = int(config["cluster"]["worker"][config["task"]["index"]].rsplit(":", 1)[1])
servers = []
for family, address in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
    sock = socket.socket(family)
    if family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    sock.bind((address, port))
    sock.listen()
    servers.append(sock)
print("tf2bench-worker " + json.dumps({"event": "ready"}), flush=True)
for line in iter(sys.stdin.readline, ""):
    if line.strip() == "run":
        print("tf2bench-worker " + json.dumps({"event": "done", "loss": 0.5, "tracing_count": 1}), flush=True)
    elif line.strip() == "quit":
        break
"""  # noqa: E501


def _hex_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    raw = bytes.fromhex(text)
    if len(raw) == 4:
        return ipaddress.IPv4Address(raw[::-1])
    # /proc prints an IPv6 address as four host-order 32-bit words
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
    return ipaddress.IPv6Address(words)


def listening_sockets(pid: int) -> list[tuple[str, int]]:
    """(address, port) of every TCP socket listening in the network namespace of `pid`."""
    found = []
    for table in ("tcp", "tcp6"):
        lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        for line in lines:
            fields = line.split()
            if fields[3] == "0A":  # TCP_LISTEN
                address, port = fields[1].split(":")
                found.append((str(_hex_address(address)), int(port, 16)))
    return found


def interfaces(pid: int) -> set[str]:
    lines = Path(f"/proc/{pid}/net/dev").read_text().splitlines()[2:]
    return {line.split(":")[0].strip() for line in lines}


def exposed(pid: int) -> list[str]:
    """Listening sockets of `pid` that something other than its own loopback can reach."""
    only_loopback = interfaces(pid) == {"lo"}
    wrong = []
    for address, port in listening_sockets(pid):
        ip = ipaddress.ip_address(address)
        if ip.is_loopback or (ip.is_unspecified and only_loopback):
            continue
        wrong.append(f"{address}:{port} (interfaces {sorted(interfaces(pid))})")
    return wrong


def _host_listening_ports() -> set[int]:
    out = subprocess.run(["ss", "-Hltn"], capture_output=True, text=True, check=True).stdout
    return {int(line.split()[3].rsplit(":", 1)[1]) for line in out.splitlines() if line.strip()}


@pytest.fixture
def listening_worker(tmp_path):
    script = tmp_path / "listening_worker.py"
    script.write_text(LISTENING_WORKER)
    return [sys.executable, str(script)]


@pytest.mark.parametrize("euid", [0, 1000], ids=["root", "user-namespace"])
def test_two_workers_listen_on_a_private_loopback_only(listening_worker, monkeypatch, euid):
    if euid and os.geteuid() == 0:
        monkeypatch.setattr(netns.os, "geteuid", lambda: euid)  # take the non-root path
    with LocalCluster(listening_worker, workers=2, start_timeout_s=30, grace_s=1) as cluster:
        assert cluster.run_round() == 0.5
        ports = set()
        for pid in cluster.pids:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            config = json.loads(next(v[10:] for v in environ if v.startswith(b"TF_CONFIG=")))
            ports |= {int(a.rsplit(":", 1)[1]) for a in config["cluster"]["worker"]}
            assert listening_sockets(pid), "the stand-in worker must really listen"
            assert exposed(pid) == [], f"worker {pid} is reachable from outside its loopback"
            assert os.readlink(f"/proc/{pid}/ns/net") != os.readlink("/proc/self/ns/net")
        assert not ports & _host_listening_ports(), "a worker port is open in the host namespace"


def test_without_namespaces_the_cluster_refuses_or_warns_when_allowed(
    listening_worker, monkeypatch
):
    monkeypatch.setattr(netns, "_UNSHARE", "/bin/false")
    monkeypatch.delenv(netns.OPT_OUT_ENV, raising=False)
    cluster = LocalCluster(listening_worker, workers=2, start_timeout_s=30, grace_s=1)
    with pytest.raises(MeasurementError, match="every network interface") as error:
        cluster.start()
    assert "\n" not in str(error.value) and cluster.pids == []
    monkeypatch.setenv(netns.OPT_OUT_ENV, "1")
    with pytest.warns(netns.UnisolatedWorkersWarning), cluster:
        assert cluster.run_round() == 0.5


def test_a_worker_failure_quotes_the_lines_that_explain_it(tmp_path):
    from tf2bench.harness.workers import explaining_lines

    script = tmp_path / "dies.py"
    script.write_text(
        "import sys\n"
        "print('I0000 00:00:1.0 1 cpu_feature_guard.cc:210] This TensorFlow binary is optimized',"
        " file=sys.stderr)\n"
        "try:\n"
        "    raise ValueError('the dataset has no elements')\n"
        "except ValueError:\n"
        "    import traceback; traceback.print_exc()\n"
        "print('E0000 00:00:1.0 1 cuda_platform.cc:52] failed call to cuInit: UNKNOWN ERROR',"
        " file=sys.stderr, flush=True)\n"
        "sys.exit(3)\n"
    )
    cluster = LocalCluster([sys.executable, str(script)], workers=1, start_timeout_s=30, grace_s=1)
    with pytest.raises(MeasurementError) as error:
        cluster.start()
    message = str(error.value)
    assert "stderr ends: ValueError: the dataset has no elements" in message
    assert "cuInit" not in message and "optimized" not in message
    gpu_only = "E0000 00:00:1 1 cuda_platform.cc:52] failed call to cuInit\nF0000 1 x.cc:1] bad op"
    assert explaining_lines(gpu_only) == "F0000 1 x.cc:1] bad op"
