"""The process supervisor of `make serve`: starts the programs of the production topology (nginx,
gunicorn, uvicorn), prefixes their output with their names, restarts one that exits, and stops them
all, with every process they started, on SIGINT or SIGTERM.

nginx's master and gunicorn's arbiter already replace a worker that dies (and log it); each
uvicorn is one process, so that this supervisor restarts and names it. What is left to do here is
small: start a few commands, watch them, pass the stop on. supervisord would need a configuration
of its own rendered beside nginx's, with its own log and socket files, and honcho stops everything
when one program exits instead of restarting it; so this is the standard library instead
(bench/TOPOLOGY.md).

Nothing is left behind: each program runs in a process group of its own, and the supervisor is the
"subreaper" of everything below it (Linux), so a worker orphaned by its master's death is its
child, to be killed and reaped; every program also gets SIGTERM if the supervisor itself is
killed (Linux's parent-death signal).
"""

import contextlib
import ctypes
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36

# A program that exits this many times in a row, each within FAST_EXIT_SECONDS of its start,
# is failing to start, not failing now and then: everything stops instead.
CRASH_LOOP_EXITS = 5
FAST_EXIT_SECONDS = 10
RESTART_DELAY_SECONDS = 1.0


def _prctl(option: int, value: int) -> None:
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)


def _die_with_parent() -> None:  # runs in the child between fork and exec
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Program:
    name: str
    command: list[str]
    env: dict | None = None
    # A Unix socket it listens on, removed before each start: one left by a killed process would
    # make the next bind fail.
    socket: str | None = None
    process: subprocess.Popen | None = field(default=None, repr=False)
    started_at: float = 0.0
    fast_exits: int = 0
    restart_at: float | None = None
    buffer: bytes = b""


def describe_status(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"was killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exited with status {os.waitstatus_to_exitcode(status)}"


class Supervisor:
    def __init__(
        self,
        programs: list[Program],
        *,
        stop_timeout: float = 20,
        restart_delay: float = RESTART_DELAY_SECONDS,
        out=None,
        on_exit: Callable[[int], None] | None = None,
        name: str = "serve",
    ):
        self.programs = programs
        self.name = name  # its own lines' prefix
        # Called with the pid of each program that exits while running (before its restart).
        self.on_exit = on_exit
        self.stop_timeout = stop_timeout
        self.restart_delay = restart_delay
        self.out = out or sys.stdout.buffer
        self.selector = selectors.DefaultSelector()
        self.stop_requested: str | None = None
        self.width = max(len(program.name) for program in [*programs, Program(name, [])])

    def log(self, text: str) -> None:
        self.write(self.name, text.encode() + b"\n")

    def write(self, name: str, data: bytes) -> None:
        prefix = f"{name:<{self.width}} | ".encode()
        self.out.write(b"".join(prefix + line + b"\n" for line in data.splitlines()))
        self.out.flush()

    def run(self) -> int:
        """Runs until asked to stop (0) or until a program keeps failing to start (1)."""
        _prctl(PR_SET_CHILD_SUBREAPER, 1)
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._request_stop)
        for program in self.programs:
            self.start(program)
        failed = None
        while self.stop_requested is None and failed is None:
            self.pump_output(timeout=0.2)
            failed = self.reap_and_restart()
        self.log(
            f"{self.stop_requested}: stopping everything"
            if failed is None
            else f"{failed.name} keeps exiting within {FAST_EXIT_SECONDS} s of its start "
            f"({CRASH_LOOP_EXITS} times in a row): stopping everything"
        )
        self.stop_all()
        return 0 if failed is None else 1

    def _request_stop(self, signum, frame) -> None:
        self.stop_requested = signal.Signals(signum).name

    def start(self, program: Program) -> None:
        if program.socket and os.path.exists(program.socket):
            os.unlink(program.socket)
        program.process = subprocess.Popen(  # noqa: S603 - our own commands
            program.command,
            env=program.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        os.set_blocking(program.process.stdout.fileno(), False)
        self.selector.register(program.process.stdout, selectors.EVENT_READ, program)
        program.started_at = time.monotonic()
        program.restart_at = None
        self.log(f"started {program.name} (pid {program.process.pid}): {' '.join(program.command)}")

    def pump_output(self, timeout: float) -> None:
        for key, _ in self.selector.select(timeout):
            program = key.data
            try:
                data = os.read(key.fd, 65536)
            except BlockingIOError:
                continue
            if not data:
                self.selector.unregister(key.fileobj)
                key.fileobj.close()
                if program.buffer:
                    self.write(program.name, program.buffer)
                    program.buffer = b""
                continue
            lines, _, program.buffer = (program.buffer + data).rpartition(b"\n")
            if lines:
                self.write(program.name, lines)

    def reap(self) -> list[tuple[int, int]]:
        """Every child that has exited (programs, and orphaned workers passed to us)."""
        reaped = []
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return reaped
            if pid == 0:
                return reaped
            reaped.append((pid, status))

    def reap_and_restart(self) -> Program | None:
        """Restarts programs that exited; returns one that keeps failing to start, if any."""
        now = time.monotonic()
        for pid, status in self.reap():
            program = self.program_of(pid)
            if program is None:
                continue
            program.process.returncode = os.waitstatus_to_exitcode(status)
            self.kill_group(pid)  # workers its master left behind
            if self.on_exit is not None:
                self.on_exit(pid)
            quick = now - program.started_at < FAST_EXIT_SECONDS
            program.fast_exits = program.fast_exits + 1 if quick else 0
            if program.fast_exits >= CRASH_LOOP_EXITS:
                return program
            delay = self.restart_delay * 2 ** max(program.fast_exits - 1, 0)
            program.restart_at = now + delay
            self.log(
                f"{program.name} (pid {pid}) {describe_status(status)}; restarting it in "
                f"{delay:g} s"
            )
        for program in self.programs:
            if program.restart_at is not None and program.restart_at <= now:
                self.start(program)
        return None

    def program_of(self, pid: int) -> Program | None:
        return next(
            (p for p in self.programs if p.process is not None and p.process.pid == pid), None
        )

    def running(self) -> list[Program]:
        return [p for p in self.programs if p.process is not None and p.restart_at is None]

    def kill_group(self, pgid: int, signum: int = signal.SIGKILL) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signum)

    def group_alive(self, pgid: int) -> bool:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def stop_all(self) -> None:
        """Asks every program to stop, waits for its whole process group to end, kills what is
        left after the timeout, and reaps everything."""
        groups = {}
        for program in self.running():
            if program.process.returncode is None:
                # gunicorn and uvicorn finish the requests in flight; nginx closes at once.
                self.kill_group(program.process.pid, signal.SIGTERM)
            groups[program.process.pid] = program
        deadline = time.monotonic() + self.stop_timeout
        while groups and time.monotonic() < deadline:
            self.pump_output(timeout=0.1)
            for pid, status in self.reap():
                program = self.program_of(pid)
                if program is not None:
                    program.process.returncode = os.waitstatus_to_exitcode(status)
                    self.log(f"{program.name} (pid {pid}) stopped: {describe_status(status)}")
            groups = {pid: p for pid, p in groups.items() if self.group_alive(pid)}
        for pid, program in groups.items():
            self.log(f"{program.name} did not stop within {self.stop_timeout:.0f} s: killing it")
            self.kill_group(pid)
        deadline = time.monotonic() + 5
        while (self.reap() or any(self.group_alive(pid) for pid in groups)) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.05)
        self.pump_output(timeout=0)
