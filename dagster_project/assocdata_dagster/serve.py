"""Serve the Dagster UI (webserver + daemon: ``dagster dev``) in the background, idempotently.

``python -m assocdata_dagster.serve start|stop|status`` (``./scripts/demo`` calls
``start``; ``./scripts/demo stop`` calls ``stop``). Why in the background: the
README's main command must end, leaving the UI up, and running it again must
neither start a second server nor fail: ``start`` does nothing when the
recorded server answers. The process group is recorded in
``$DAGSTER_HOME/dagster-dev.pid``, its output in ``dagster-dev.log``.

``ASSOCDATA_DAGSTER_PORT`` (default 3000) and ``ASSOCDATA_DAGSTER_HOST``
(default 127.0.0.1: the UI can launch runs, so it is not exposed by default).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from . import home

PROJECT_DIR = Path(__file__).resolve().parents[1]
WORKSPACE = PROJECT_DIR / "workspace.yaml"


def host() -> str:
    return os.environ.get("ASSOCDATA_DAGSTER_HOST", "127.0.0.1")


def port() -> int:
    return int(os.environ.get("ASSOCDATA_DAGSTER_PORT", 3000))


def url() -> str:
    return f"http://{host()}:{port()}"


def _pidfile() -> Path:
    return home.dagster_home() / "dagster-dev.pid"


def _logfile() -> Path:
    return home.dagster_home() / "dagster-dev.log"


def answers(timeout: float = 2.0, address: str | None = None) -> bool:
    try:
        with urllib.request.urlopen(f"{address or url()}/server_info", timeout=timeout) as r:
            return r.status == 200
    except OSError:
        return False


def _pid() -> int | None:
    try:
        pid = int(_pidfile().read_text().split()[0])
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError, IndexError):
        return None


def command(address_host: str, address_port: int) -> list[str]:
    dagster = Path(sys.executable).with_name("dagster")
    return [str(dagster), "dev", "-w", str(WORKSPACE), "-h", address_host, "-p", str(address_port)]


def start(timeout: float = 180.0) -> str:
    """Start the UI unless it is up; returns its URL. Raises RuntimeError if it does not come up."""
    if _pid() and answers():
        return url()
    if answers():
        raise RuntimeError(f"{url()} is already served by another program: set ASSOCDATA_DAGSTER_PORT")
    stop()
    home.write()
    log = _logfile().open("ab")
    proc = subprocess.Popen(command(host(), port()), cwd=PROJECT_DIR, env=home.environment(),
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    _pidfile().write_text(f"{proc.pid}\n")
    deadline = time.monotonic() + timeout
    while not answers():
        if proc.poll() is not None or time.monotonic() > deadline:
            tail = _logfile().read_text(errors="replace")[-3000:]
            stop()
            raise RuntimeError(f"the Dagster UI did not start; end of {_logfile()}:\n{tail}")
        time.sleep(1.0)
    return url()


def stop(timeout: float = 30.0) -> bool:
    """Stop the UI started by :func:`start` (its whole process group); True if one was running."""
    pid = _pid()
    if pid is None:
        _pidfile().unlink(missing_ok=True)
        return False
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.3)
    else:
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    _pidfile().unlink(missing_ok=True)
    return True


def main(argv: list[str]) -> int:
    action = argv[0] if argv else "status"
    if action == "start":
        try:
            print(f"Dagster UI: {start()}  (log: {_logfile()}; stop it with ./scripts/demo stop)")
        except RuntimeError as exc:
            print(f"dagster: {exc}", file=sys.stderr)
            return 1
        return 0
    if action == "stop":
        print("Dagster UI stopped" if stop() else "Dagster UI was not running")
        return 0
    if action == "status":
        up = bool(_pid()) and answers()
        print(f"Dagster UI: {url()}" if up else "Dagster UI: not running")
        return 0 if up else 3
    print(f"usage: python -m assocdata_dagster.serve start|stop|status", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
