"""Session probe: runs ON a lab host (copied there by the harness), Python 3.9+, stdlib only.

Two commands, each printing JSON lines on stdout as things happen:

``sessions SPEC_B64``  (on the client; stdin: ``go`` releases ``wait_go`` steps)
    Starts one SSH client process per session of the spec (ssh, plink, ...), each driven by a
    small script of steps, all in parallel. Events: ``mark`` (a step matched, with the
    CLOCK_MONOTONIC time), ``failed`` (a step did not match in time), ``exit`` (the client
    process ended: when, exit code, the end of its stderr). A line ``stop`` on stdin (or EOF)
    ends every session still running; then one ``done`` line carries every session's record.

``watch PID...``  (on a server)
    Polls /proc for each pid (a session's sshd process) and prints ``gone`` with the time it
    disappeared; ``done`` when all are gone, on ``stop``/EOF, or after ``--timeout``.

Lab containers share the controller's kernel, so CLOCK_MONOTONIC times from here, from the
servers and from the controller are on one clock: the harness subtracts them directly.

Steps of a session (lists, JSON):
    ["send", TEXT]                       write TEXT to the client's stdin
    ["expect", REGEX, TIMEOUT, MARK]     wait until REGEX matches new stdout; record MARK
    ["expect_err", REGEX, TIMEOUT, MARK] the same on stderr (ssh -v messages)
    ["idle", SECONDS]                    do nothing
    ["every", PERIOD, TEXT, COUNT]       send TEXT every PERIOD seconds, COUNT times
    ["wait_exit", TIMEOUT]               wait for the client to end (its exit is recorded)
    ["wait_go", TIMEOUT]                 wait for a line ``go`` on the probe's stdin
    ["hold"]                             keep the session until ``stop``
A session whose steps end (or fail) without ``hold`` is terminated.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

_PRINT_LOCK = threading.Lock()


def emit(event: dict) -> None:
    with _PRINT_LOCK:
        sys.stdout.write(json.dumps(event) + "\n")
        sys.stdout.flush()


class Stream:
    """A pipe read by a thread into a buffer that steps can wait on."""

    def __init__(self, pipe, changed: threading.Condition) -> None:
        self.buf = ""
        self.pos = 0  # expect() matches text after the previous match only
        self.closed = False
        self._pipe = pipe
        self._changed = changed
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while True:
            chunk = os.read(self._pipe.fileno(), 4096)
            with self._changed:
                if not chunk:
                    self.closed = True
                else:
                    self.buf += chunk.decode("utf-8", "replace")
                self._changed.notify_all()
            if not chunk:
                return

    def tail(self, size: int = 600) -> str:
        return self.buf[-size:]


class Session:
    def __init__(self, spec: dict, stopping: threading.Event, go: threading.Event) -> None:
        self.spec = spec
        self.go = go
        self.id = str(spec["id"])
        self.stopping = stopping
        self.marks: dict[str, float] = {}
        self.groups: dict[str, list[str]] = {}
        self.failed: str | None = None
        self.exit_time: float | None = None
        self.returncode: int | None = None
        self.started: float | None = None
        self.proc: subprocess.Popen | None = None
        self.changed = threading.Condition()
        self.thread = threading.Thread(target=self.run, daemon=True)

    # -- process
    def spawn(self) -> None:
        env = dict(os.environ)
        env.update({str(k): str(v) for k, v in (self.spec.get("env") or {}).items()})
        argv = [str(a) for a in self.spec["argv"]]
        user = self.spec.get("user")
        if user and user != "root":
            argv = ["runuser", "-u", str(user), "--", *argv]
        self.started = time.monotonic()
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env, start_new_session=True)
        self.out = Stream(self.proc.stdout, self.changed)
        self.err = Stream(self.proc.stderr, self.changed)
        threading.Thread(target=self._reap, daemon=True).start()

    def _reap(self) -> None:
        assert self.proc is not None
        code = self.proc.wait()
        now = time.monotonic()
        with self.changed:
            self.exit_time, self.returncode = now, code
            self.changed.notify_all()
        emit({"ev": "exit", "id": self.id, "t": now, "rc": code,
              "stderr": self.err.tail(300) if hasattr(self, "err") else ""})

    def terminate(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)

    # -- steps
    def run(self) -> None:
        delay = float(self.spec.get("delay", 0))
        if self.stopping.wait(delay):
            return
        try:
            self.spawn()
        except OSError as exc:
            self.fail("spawn", str(exc))
            return
        hold = False
        for step in self.spec.get("steps", []):
            if self.stopping.is_set():
                return
            if step[0] == "hold":
                hold = True
                break
            if not self.step(step):
                break
        if not hold:
            self.terminate()

    def step(self, step: list) -> bool:
        kind = step[0]
        if kind == "send":
            return self.send(str(step[1]))
        if kind in ("expect", "expect_err"):
            stream = self.out if kind == "expect" else self.err
            return self.expect(stream, str(step[1]), float(step[2]), str(step[3]))
        if kind == "idle":
            self.stopping.wait(float(step[1]))
            return True
        if kind == "every":
            for _count in range(int(step[3])):
                if self.stopping.wait(float(step[1])) or not self.send(str(step[2])):
                    return False
            return True
        if kind == "wait_exit":
            return self.wait_exit(float(step[1]))
        if kind == "wait_go":
            deadline = time.monotonic() + float(step[1])
            while not self.go.wait(0.2):
                if self.stopping.is_set() or time.monotonic() > deadline:
                    self.fail("wait_go", "no go")
                    return False
            # Where the idle period starts (idle_seconds measures from here, not from "ready").
            self.marks["go"] = time.monotonic()
            return True
        self.fail(kind, "unknown step")
        return False

    def send(self, text: str) -> bool:
        assert self.proc is not None and self.proc.stdin is not None
        try:
            self.proc.stdin.write(text.encode())
            self.proc.stdin.flush()
            return True
        except (BrokenPipeError, ValueError, OSError) as exc:
            self.fail("send", str(exc))
            return False

    def expect(self, stream: Stream, pattern: str, timeout: float, mark: str) -> bool:
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                found = regex.search(stream.buf, stream.pos)
                if found:
                    now = time.monotonic()
                    stream.pos = found.end()
                    self.marks[mark] = now
                    self.groups[mark] = list(found.groups())
                    break
                left = deadline - time.monotonic()
                if left <= 0 or stream.closed or self.stopping.is_set():
                    reason = "stream closed" if stream.closed else "timeout"
                    self.failed = f"{mark}: {reason}"
                    break
                self.changed.wait(min(left, 0.2))
        if found:
            emit({"ev": "mark", "id": self.id, "mark": mark, "t": now, "groups": self.groups[mark]})
            return True
        emit({"ev": "failed", "id": self.id, "step": mark, "why": self.failed,
              "t": time.monotonic()})
        return False

    def wait_exit(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self.changed:
            while self.exit_time is None and not self.stopping.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    self.failed = "wait_exit: timeout"
                    return False
                self.changed.wait(min(left, 0.2))
        return True

    def fail(self, step: str, why: str) -> None:
        self.failed = f"{step}: {why}"
        emit({"ev": "failed", "id": self.id, "step": step, "why": why, "t": time.monotonic()})

    def record(self) -> dict:
        has_streams = hasattr(self, "out")
        return {
            "id": self.id, "started": self.started, "marks": self.marks, "groups": self.groups,
            "failed": self.failed, "exit_time": self.exit_time, "returncode": self.returncode,
            "stdout_tail": self.out.tail() if has_streams else "",
            "stderr_tail": self.err.tail() if has_streams else "",
        }


def watch_stdin(stopping: threading.Event, go: threading.Event | None = None) -> None:
    """`stop` or EOF on stdin ends the run (the controller went away, or is done);
    `go` releases the sessions waiting in a ``wait_go`` step."""
    for line in sys.stdin:
        if line.strip() == "go" and go is not None:
            go.set()
        if line.strip() == "stop":
            break
    stopping.set()


def cmd_sessions(spec_b64: str) -> int:
    spec = json.loads(base64.b64decode(spec_b64).decode())
    stopping, go = threading.Event(), threading.Event()
    sessions = [Session(s, stopping, go) for s in spec["sessions"]]
    emit({"ev": "start", "t": time.monotonic(), "pid": os.getpid()})
    threading.Thread(target=watch_stdin, args=(stopping, go), daemon=True).start()
    for session in sessions:
        session.thread.start()
    limit = time.monotonic() + float(spec.get("max_seconds", 300))
    while not stopping.is_set() and time.monotonic() < limit:
        if all(not s.thread.is_alive() for s in sessions) and all(
                s.proc is None or s.proc.poll() is not None for s in sessions):
            break
        stopping.wait(0.2)
    stopping.set()
    for session in sessions:
        session.terminate()
    end = time.monotonic() + 5
    for session in sessions:
        if session.proc is not None:
            try:
                session.proc.wait(max(0.1, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(session.proc.pid, signal.SIGKILL)
    time.sleep(0.2)  # let the reaper threads emit their exit events first
    emit({"ev": "done", "t": time.monotonic(), "sessions": [s.record() for s in sessions]})
    return 0


def cmd_watch(pids: list[int], timeout: float) -> int:
    stopping = threading.Event()
    threading.Thread(target=watch_stdin, args=(stopping,), daemon=True).start()
    emit({"ev": "start", "t": time.monotonic(),
          "alive": [p for p in pids if os.path.exists(f"/proc/{p}")]})
    gone: dict[int, float] = {}
    limit = time.monotonic() + timeout
    while len(gone) < len(pids) and not stopping.is_set() and time.monotonic() < limit:
        for pid in pids:
            if pid not in gone and not os.path.exists(f"/proc/{pid}"):
                gone[pid] = time.monotonic()
                emit({"ev": "gone", "pid": pid, "t": gone[pid]})
        time.sleep(0.05)
    emit({"ev": "done", "t": time.monotonic(), "gone": {str(p): t for p, t in gone.items()}})
    return 0


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "sessions":
        return cmd_sessions(argv[1])
    if argv and argv[0] == "watch":
        timeout = 120.0
        if "--timeout" in argv:
            index = argv.index("--timeout")
            timeout = float(argv[index + 1])
            argv = argv[:index] + argv[index + 2:]
        return cmd_watch([int(p) for p in argv[1:]], timeout)
    sys.stderr.write(__doc__ or "")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
