"""The supervisor of `make serve` (config/supervisor.py) on small programs, each run in a fresh
interpreter: it reaps every child of its process, which a test process must not do. Its work with
the real topology is in chat/tests/test_topology.py."""

from tests.servers import run_python

CRASH_LOOP = """
import sys
from config.supervisor import Program, Supervisor

flaky = Program("flaky", [sys.executable, "-c", "print('starting'); raise SystemExit(3)"])
steady = Program("steady", [sys.executable, "-c", "import time; time.sleep(60)"])
sys.exit(Supervisor([flaky, steady], restart_delay=0.01).run())
"""


def test_a_program_that_keeps_failing_to_start_stops_everything():
    result = run_python(CRASH_LOOP)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert "flaky  | starting" in lines  # each line of output under its program's name
    assert any(
        "flaky (pid" in line and "exited with status 3; restarting it" in line for line in lines
    )
    assert lines.count("flaky  | starting") == 5
    assert (
        "serve  | flaky keeps exiting within 10 s of its start (5 times in a row): "
        "stopping everything"
    ) in lines
    assert any(line.startswith("serve  | steady (pid") and "SIGTERM" in line for line in lines)
