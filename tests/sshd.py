"""A throwaway OpenSSH server on a loopback port, for driving a desk over a real ``ssh`` in tmux.

The server runs as the current user with its own host key, an ``authorized_keys`` whose key is
forced to run wsms (``restrict,pty,command="…"``), and ``SetEnv`` for the session's environment —
the same setup docs/SSH.md describes for a real receiving desk.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SSHD = "/usr/sbin/sshd"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class SshServer:
    port: int
    user: str
    key: Path
    workdir: Path

    def ssh_command(self) -> list[str]:
        return ["ssh", "-tt", "-p", str(self.port), "-i", str(self.key), "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "BatchMode=yes",
                f"{self.user}@127.0.0.1"]


@contextmanager
def ssh_server(tmp: Path, command: str, env: dict[str, str]) -> Iterator[SshServer]:
    """Start sshd forcing ``command`` with ``env`` for every session; stop it afterwards."""
    tmp.mkdir(parents=True, exist_ok=True)
    os.chmod(tmp, 0o700)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp / "host_key")], check=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp / "user_key")], check=True)
    pub = (tmp / "user_key.pub").read_text().strip()
    (tmp / "authorized_keys").write_text(f'restrict,pty,command="{command}" {pub}\n')
    os.chmod(tmp / "authorized_keys", 0o600)
    port = free_port()
    set_env = " ".join(f"{k}={v}" for k, v in env.items())
    (tmp / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {tmp / 'host_key'}\nPidFile {tmp / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {tmp / 'authorized_keys'}\nStrictModes no\nUsePAM no\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\n"
        "PermitRootLogin prohibit-password\nPrintMotd no\nPrintLastLog no\n"
        f"SetEnv {set_env}\n")
    Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # privilege separation directory
    proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(tmp / "sshd_config")], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        if proc.poll() is not None:
            raise RuntimeError(f"sshd did not start: {proc.stdout.read() if proc.stdout else ''}")
        time.sleep(0.05)
    try:
        yield SshServer(port, getpass.getuser(), tmp / "user_key", tmp)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()


class Tmux:
    """One tmux session on its own socket: type with ``send``, read the screen with ``screen``."""

    def __init__(self, name: str, socket_dir: Path) -> None:
        self.name = name
        self.sock = str(socket_dir / "tmux.sock")

    def _tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-S", self.sock, *args], check=True, capture_output=True,
                              text=True).stdout

    def start(self, argv: list[str], width: int = 80, height: int = 24) -> None:
        env_cmd = " ".join(_quote(a) for a in argv)
        self._tmux("new-session", "-d", "-s", self.name, "-x", str(width), "-y", str(height), env_cmd)

    def send(self, *keys: str, literal: bool = False) -> None:
        self._tmux("send-keys", "-t", self.name, *(["-l"] if literal else []), *keys)

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", self.name)

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} not on screen after {timeout}s:\n{screen}")

    def kill(self) -> None:
        subprocess.run(["tmux", "-S", self.sock, "kill-server"], capture_output=True)


def _quote(a: str) -> str:
    import shlex

    return shlex.quote(a)


def have_ssh_tools() -> bool:
    return os.path.exists(SSHD) and shutil.which("ssh") is not None and shutil.which("tmux") is not None
