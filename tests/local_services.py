"""Local services the runner tests start, each a process of its own: Beam's Python job
service (for the PortableRunner) and a Dask cluster (a scheduler and two workers).

The Dask processes are started with the ``dask`` command line (as on a real cluster), without a
nanny so that the worker processes are the ones started here. ``beam_stats`` reaches the
workers through its installation alone: they start outside the repository and get no
``PYTHONPATH``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import distributed
import pytest

import beam_stats

DASK_RUNNER = "apache_beam.runners.dask.dask_runner.DaskRunner"
WORKERS = 2
START_TIMEOUT = 60  # seconds; start-up takes 2 to 3 s here


@dataclasses.dataclass(frozen=True)
class DaskCluster:
    address: str  # of the scheduler
    worker_pids: frozenset[int]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return int(s.getsockname()[1])


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaskCluster]:
    """A Dask scheduler and two single-threaded workers, each a process of its own."""
    folder = tmp_path_factory.mktemp("dask")
    scheduler_file = folder / "scheduler.json"
    processes: list[subprocess.Popen[bytes]] = []
    logs: list[Path] = []

    def start(name: str, *args: str) -> subprocess.Popen[bytes]:
        logs.append(folder / f"{name}.log")
        with logs[-1].open("wb") as log:
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", *args],
                    cwd=folder,  # not the repository: beam_stats must come from the venv
                    env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        return processes[-1]

    def failed(message: str) -> None:
        pytest.fail(message + "".join(f"\n--- {p.name}\n{p.read_text()[-3000:]}" for p in logs))

    client = None
    try:
        # --idle-timeout and --death-timeout: a cluster orphaned by a killed test run ends itself.
        start(
            "scheduler",
            "distributed.cli.dask_scheduler",
            "--host=127.0.0.1",
            "--port=0",
            "--no-dashboard",
            f"--scheduler-file={scheduler_file}",
            "--idle-timeout=300s",
        )
        deadline = time.monotonic() + START_TIMEOUT
        while not scheduler_file.exists():
            if processes[0].poll() is not None or time.monotonic() > deadline:
                failed("the Dask scheduler did not start")
            time.sleep(0.1)
        workers = [
            start(
                f"worker-{i}",
                "distributed.cli.dask_worker",
                f"--scheduler-file={scheduler_file}",
                "--host=127.0.0.1",
                "--nthreads=1",
                "--no-nanny",
                "--no-dashboard",
                f"--name=worker-{i}",
                f"--local-directory={folder / f'worker-{i}'}",
                "--death-timeout=60s",
            )
            for i in range(WORKERS)
        ]
        client = distributed.Client(scheduler_file=str(scheduler_file), timeout=START_TIMEOUT)
        try:
            client.wait_for_workers(WORKERS, timeout=START_TIMEOUT)
        except TimeoutError:
            failed(f"{WORKERS} Dask workers did not register")
        pids = client.run(os.getpid)
        assert sorted(pids.values()) == sorted(w.pid for w in workers)
        # The workers import the package from where this process does (the editable install).
        files = client.run(lambda: __import__("beam_stats").__file__)
        assert set(files.values()) == {beam_stats.__file__}, files
        address = json.loads(scheduler_file.read_text())["address"]
        yield DaskCluster(address, frozenset(pids.values()))
    finally:
        if client is not None:
            client.close()
        for process in reversed(processes):  # workers first, then the scheduler
            stop(process)


@pytest.fixture(scope="module")
def job_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Beam's Python job service, for the PortableRunner; its address."""
    port = free_port()
    log = tmp_path_factory.mktemp("job_service") / "job_service.log"
    module = "apache_beam.runners.portability.local_job_service_main"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", module, "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"job service exited with {process.returncode}: {log.read_text()}")
            try:
                socket.create_connection(("localhost", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"job service not listening on {port} after {START_TIMEOUT} s")
                time.sleep(0.1)
        yield f"localhost:{port}"
    finally:
        stop(process)
