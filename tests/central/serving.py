"""A `limes central serve` process for tests that need centrals as processes (federation, posts asking
headquarters): started with the server certificate of a DevPki, ready once it prints where it listens."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from proto.dev_pki import DevPki


class CentralProcess:
    def __init__(self, folder: Path, database_url: str, pki: DevPki, *extra: str) -> None:
        tls = pki.server()
        self.stderr = open(folder / "serve.stderr", "w+")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "limes", "central", "serve", "--listen", "127.0.0.1:0", "--database",
             database_url, "--json", "--tls-ca", str(tls.ca), "--tls-cert", str(tls.certificate), "--tls-key",
             str(tls.key), *extra], stdout=subprocess.PIPE, stderr=self.stderr, text=True)

    def wait_ready(self, name: str = "central") -> dict:
        """What it printed once serving (its address among it); AssertionError with its stderr if it exited."""
        lines: list[str] = []
        while not lines or lines[-1].strip() != "}":
            line = self.process.stdout.readline()
            if not line:
                self.stderr.seek(0)
                raise AssertionError(f"{name} exited before serving:\n{self.stderr.read()}")
            lines.append(line)
        return json.loads("".join(lines))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.process.stdout.close()
        self.stderr.close()
