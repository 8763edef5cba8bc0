"""Headless Chromium for the browser tests: find it, install it when missing, run it.

Debian's ``chromium`` and ``chromium-driver`` packages (``/usr/bin/chromium``) are installed
with apt-get when the browser is missing and we are root; concurrent installers (pytest
workers, other checkouts on the machine) are serialised by a file lock, and apt waits for
dpkg's own lock. Run as a script to install ahead of the tests (CI, a Makefile target)::

    python tests/report/headless_chromium.py

Chromium is driven without a browser library: by its command line (``--dump-dom``,
``--screenshot``), and for clicks and typing by the DevTools protocol on a pipe
(:class:`Page`). The flags keep it off the network (the report must not need one).
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PACKAGES = ("chromium", "chromium-driver")
NAMES = ("chromium", "chromium-browser")
LOCK = Path(tempfile.gettempdir()) / "beam-stats-chromium-install.lock"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)
APT = ("-o", "DPkg::Lock::Timeout=600")


class CannotInstall(RuntimeError):
    """Chromium is missing and this machine cannot install it (not root, no apt-get)."""


def find() -> str | None:
    """The path of an installed Chromium, or None."""
    for name in NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def install() -> str:
    """Chromium's path, installing Debian's packages first when it is missing.

    Raises:
        CannotInstall: it is missing and cannot be installed here (not root, no apt-get).
        RuntimeError: apt-get failed; the message has its error output.
    """
    path = find()
    if path:
        return path
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise CannotInstall(
            "Chromium is not installed and cannot be installed here (needs root and apt-get): "
            f"run `apt-get install -y {' '.join(PACKAGES)}`"
        )
    with LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be installing it right now
        path = find()
        if path:
            return path
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for command in (
            ["apt-get", *APT, "update"],
            ["apt-get", *APT, "install", "-y", "--no-install-recommends", *PACKAGES],
        ):
            done = subprocess.run(
                command, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True
            )
            if done.returncode != 0:
                raise RuntimeError(
                    f"`{' '.join(command)}` failed ({done.returncode}):\n{done.stderr[-2000:]}"
                )
    path = find()
    if path is None:
        raise RuntimeError(f"installed {' '.join(PACKAGES)} but found no chromium on PATH")
    return path


def run(browser: str, url: str, *args: str, timeout: float = 120) -> str:
    """Runs headless `browser` on `url` with `args` in a fresh profile; returns its stdout."""
    with tempfile.TemporaryDirectory(prefix="beam-stats-chromium-") as profile:
        done = subprocess.run(
            [browser, *FLAGS, f"--user-data-dir={profile}", *args, url],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    if done.returncode != 0:
        raise RuntimeError(f"chromium failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout


if __name__ == "__main__":
    try:
        print(install())
    except RuntimeError as e:
        print(e, file=sys.stderr)
        sys.exit(1)


class Page:
    """A page in headless Chromium driven over the DevTools protocol on a pipe.

    ``--remote-debugging-pipe``: Chromium reads commands on its fd 3 and writes replies and
    events on its fd 4, each a JSON message ended by a NUL byte. Only what the tests need:
    attach to the page and evaluate expressions in it.
    """

    def __init__(self, browser: str, url: str, timeout: float = 60) -> None:
        self._profile = tempfile.TemporaryDirectory(prefix="beam-stats-chromium-")
        to_browser_read, self._to_browser = os.pipe()
        self._from_browser, from_browser_write = os.pipe()
        self._buffer = b""
        self._next_id = 0
        self._timeout = timeout
        args = [browser, *FLAGS, f"--user-data-dir={self._profile.name}"]
        args += ["--remote-debugging-pipe", "--window-size=1400,1000", url]

        def pipes_to_3_and_4() -> None:
            # In the child, before exec: first out of the way (either end may be 3 or 4).
            read = fcntl.fcntl(to_browser_read, fcntl.F_DUPFD, 10)
            write = fcntl.fcntl(from_browser_write, fcntl.F_DUPFD, 10)
            os.dup2(read, 3)
            os.dup2(write, 4)

        self._process = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # Python's fds are not inheritable (PEP 446): only the dup2'd 3 and 4 are passed.
            close_fds=False,
            preexec_fn=pipes_to_3_and_4,
        )
        os.close(to_browser_read)
        os.close(from_browser_write)
        targets = self._call("Target.getTargets")["targetInfos"]
        (page,) = [t for t in targets if t["type"] == "page"]
        attached = self._call("Target.attachToTarget", targetId=page["targetId"], flatten=True)
        self._session = attached["sessionId"]

    def _send(self, method: str, session: str | None, **params: object) -> int:
        self._next_id += 1
        message: dict[str, object] = {"id": self._next_id, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        return self._next_id

    def _receive(self) -> dict[str, Any]:
        deadline = time.monotonic() + self._timeout
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("no answer from chromium")
            ready, _, _ = select.select([self._from_browser], [], [], 1)
            if ready:
                chunk = os.read(self._from_browser, 1 << 16)
                if not chunk:
                    raise RuntimeError("chromium closed the DevTools pipe")
                self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        result: dict[str, Any] = json.loads(message)
        return result

    def _call(self, method: str, session: str | None = None, **params: object) -> Any:
        ident = self._send(method, session, **params)
        while True:
            message = self._receive()
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (JSON-serialisable)."""
        result = self._call(
            "Runtime.evaluate", self._session, expression=expression, returnByValue=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression!r} threw: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str) -> Any:
        """Evaluates `expression` until it is truthy (not throwing); returns its value."""
        deadline = time.monotonic() + self._timeout
        while time.monotonic() < deadline:
            try:
                value = self.evaluate(expression)
            except RuntimeError:  # e.g. the page is not there yet
                value = None
            if value:
                return value
            time.sleep(0.05)
        raise TimeoutError(f"{expression!r} stayed false")

    def close(self) -> None:
        try:
            self._send("Browser.close", None)
            self._process.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self._process.kill()
            self._process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)
        self._profile.cleanup()

    def __enter__(self) -> Page:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
