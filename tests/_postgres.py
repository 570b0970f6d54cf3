"""A throwaway PostgreSQL cluster for the tests (used by ``conftest.py``).

One cluster per test session: ``initdb`` into a temporary directory, listening only on a
unix socket inside it (no TCP: ``listen_addresses=''``), durability off (the tests never
crash the server, only clients). As root, the server runs as ``nobody`` (PostgreSQL
refuses to run as root). Stopped at the end of the session, or at exit.
"""

import atexit
import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

__all__ = ["Cluster", "find_bin"]


def find_bin() -> Path | None:
    """Return the directory of ``initdb`` and ``pg_ctl``: PATH first, then Debian's."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True):
        return Path(candidate).parent
    return None


class Cluster:
    """A running throwaway cluster; ``url(db)`` gives a SQLAlchemy URL of one database."""

    def __init__(self, bindir: Path) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="oppcore-pg-"))
        self.data = self.base / "data"
        self.socket_dir = self.base / "sock"
        self.socket_dir.mkdir()
        self.bindir = bindir
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            for path in (self.base, self.socket_dir):
                shutil.chown(path, "nobody", "nogroup")
            self.prefix = ["runuser", "-u", "nobody", "--"]
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.base / "log"), "-w",
                  "-t", "60", "-o",
                  f"-k {self.socket_dir} -h '' -F -c full_page_writes=off "
                  f"-c synchronous_commit=off -c max_connections=200", "start")
        self.running = True
        atexit.register(self.stop)

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run([*self.prefix, str(self.bindir / tool), *args],
                              capture_output=True, text=True, cwd=self.base, check=False)
        if done.returncode:
            log = self.base / "log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr}\n{tail}")

    def url(self, database: str = "postgres") -> str:
        """Return the SQLAlchemy URL of ``database`` (psycopg 3, over the socket)."""
        return f"postgresql+psycopg://postgres@/{database}?host={self.socket_dir}"

    def stop(self) -> None:
        """Stop the server and remove its directory (harmless twice)."""
        if self.running:
            self.running = False
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.base, ignore_errors=True)
