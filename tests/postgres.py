"""A throwaway PostgreSQL cluster from the machine's binaries, for the suite and the benches.

initdb and pg_ctl refuse to run as root, so as root they run as user ``postgres``. The
cluster lives in a temp folder, listens on a free loopback port with fsync off, and is
stopped and removed on exit.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    """The binaries are missing or the cluster did not start (message says why)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


def _pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        raise PostgresUnavailable("PostgreSQL binaries not found (apt-get install postgresql)")
    return found[-1].parent


@contextlib.contextmanager
def throwaway_postgres(prefix: str = "sapan-pg-", max_connections: int = 200) -> Iterator[str]:
    """Start a cluster; yield the URL of its ``postgres`` database (``postgresql://...``)."""
    pg_bin = _pg_bin()
    root = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        root.chmod(0o755)
    data, port = root / "data", free_port()
    ctl = [str(pg_bin / "pg_ctl"), "-D", str(data), "-l", str(root / "log")]
    options = (
        f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
        f"-c synchronous_commit=off -c full_page_writes=off -c max_connections={max_connections}"
    )
    init = [str(pg_bin / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"]
    try:
        subprocess.run(
            _as_postgres([*init, "-E", "UTF8", "--locale=C.UTF-8"]),
            check=True,
            capture_output=True,
        )
        subprocess.run(
            _as_postgres([*ctl, "-w", "-o", options, "start"]), check=True, capture_output=True
        )
    except (subprocess.CalledProcessError, OSError) as exc:
        detail = (getattr(exc, "stderr", b"") or b"").decode(errors="replace")
        shutil.rmtree(root, ignore_errors=True)
        raise PostgresUnavailable(f"PostgreSQL did not start: {exc} {detail}") from exc
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_postgres([*ctl, "-m", "immediate", "stop"]), capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
