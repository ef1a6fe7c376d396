"""A private clickhouse-server for the tests and the benchmark: its own configuration, data and
logs in a folder, on free loopback ports, started and stopped by the caller (Debian's 18.16 and
later). Users: default (no password) and sensor (PASSWORD); a one-node cluster named dnsvigil.
Python 3 standard library only."""

from __future__ import annotations

import os
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import opslib as ops

PASSWORD = "s3nsor-Pw"


def server_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class ClickHouse:
    """A private clickhouse-server: configuration, data and logs under `d`, on loopback ports."""

    def __init__(self, d: Path, cleanup: ops.Cleanup) -> None:
        self.d = d
        self.server = ops.need_tool("clickhouse-server")
        self.client = ops.need_tool("clickhouse-client")
        self.http = ops.free_port()
        self.tcp = ops.free_port()
        while self.tcp == self.http:
            self.tcp = ops.free_port()
        (d / "data").mkdir()
        (d / "log").mkdir()
        (d / "config.xml").write_text(f"""<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>{d}/log/server.log</log><errorlog>{d}/log/error.log</errorlog></logger>
  <http_port>{self.http}</http_port>
  <tcp_port>{self.tcp}</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>{d}/data/</path>
  <tmp_path>{d}/data/tmp/</tmp_path>
  <user_files_path>{d}/data/user_files/</user_files_path>
  <format_schema_path>{d}/data/format_schemas/</format_schema_path>
  <users_config>{d}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <timezone>UTC</timezone>
  <remote_servers>
    <dnsvigil><shard><replica><host>127.0.0.1</host><port>{self.tcp}</port></replica></shard></dnsvigil>
  </remote_servers>
</yandex>
""")
        (d / "users.xml").write_text(f"""<?xml version="1.0"?>
<yandex>
  <profiles><default></default></profiles>
  <users>
    <default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default>
    <sensor><password>{PASSWORD}</password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></sensor>
  </users>
  <quotas><default></default></quotas>
</yandex>
""")
        self.proc: subprocess.Popen | None = None
        cleanup.push("stop clickhouse-server", self.stop)

    def start(self) -> None:
        self.proc = subprocess.Popen([self.server, f"--config-file={self.d}/config.xml"], stdin=subprocess.DEVNULL,
                                     stdout=open(self.d / "log" / "stdout.log", "a"), stderr=subprocess.STDOUT,
                                     cwd=self.d, start_new_session=True)

        def up():
            if self.proc.poll() is not None:
                raise ops.TestFailure(f"clickhouse-server exited {self.proc.returncode}: "
                                      f"{(self.d / 'log' / 'error.log').read_text(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.http}/ping", timeout=1) as r:
                    return r.read() == b"Ok.\n"
            except OSError:
                return False
        ops.wait_for(up, 60, "clickhouse-server to answer /ping")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            ops.stop_process(self.proc, 30)
        self.proc = None

    def query(self, sql: str, database: str = "default") -> str:
        """Runs one statement over HTTP as the default user; the answer as text (TSV)."""
        url = f"http://127.0.0.1:{self.http}/?" + urllib.parse.urlencode({"database": database})
        req = urllib.request.Request(url, data=sql.encode(), method="POST")
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.read().decode()
        except urllib.error.HTTPError as e:
            raise ops.TestFailure(f"ClickHouse: {sql[:200]}: HTTP {e.code}: {e.read().decode(errors='replace')[:500]}")

    def value(self, sql: str, database: str = "default") -> int:
        return int(self.query(sql, database).strip())

    def script(self, name: str, *args: str, root: Path) -> str:
        """Runs a shipped script of packaging/clickhouse against this server."""
        p = ops.run([str(root / "packaging" / "clickhouse" / name), *args, "--", "--port", str(self.tcp)],
                    stdin=subprocess.DEVNULL)
        return p.stdout
