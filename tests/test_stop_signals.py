"""StopSignals: SIGTERM/SIGINT end the wait, even when they land while the waiting thread
holds the lock of the event it waits on (which deadlocked the player once in ~300 Ctrl-Cs)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

# Each case runs in its own interpreter: a deadlock there is a timeout here, not a hung suite.
LANDS_INSIDE_THE_EVENTS_LOCK = textwrap.dedent("""
    import logging, os, signal, sys, threading
    from anthias_edge.stop_signals import StopSignals

    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s")
    done = threading.Event()
    with StopSignals(logging.getLogger("t")) as stop:
        # What Event.wait does between two bytecodes: hold the event's own lock. A handler
        # that set the event here would wait for that lock forever.
        with done._cond:
            os.kill(os.getpid(), signal.{name})
            print("handled while the lock was held", flush=True)
        stop.wait(done)
    print("stopped on", stop.received.name, "done set:", done.is_set(), flush=True)
""")

STOPS_WHEN_DONE = textwrap.dedent("""
    import logging, threading
    from anthias_edge.stop_signals import StopSignals

    done = threading.Event()
    threading.Timer(0.3, done.set).start()
    with StopSignals(logging.getLogger("t")) as stop:
        stop.wait(done)
    print("received:", stop.received, flush=True)
""")

MANY_SIGNALS_FROM_ANOTHER_PROCESS = textwrap.dedent("""
    import logging, sys, threading
    from anthias_edge.stop_signals import StopSignals

    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s")
    done = threading.Event()
    # Busy threads so that the kernel hands some signals to them, not to the main thread.
    for _ in range(3):
        threading.Thread(target=lambda: [sum(range(1000)) for _ in iter(int, 1)],
                         daemon=True).start()
    with StopSignals(logging.getLogger("t")) as stop:
        print("waiting", flush=True)
        stop.wait(done)
    print("stopped", flush=True)
""")


def run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=30)


def test_a_signal_landing_inside_the_events_lock_stops_the_wait() -> None:
    for name in ("SIGINT", "SIGTERM"):
        result = run(LANDS_INSIDE_THE_EVENTS_LOCK.format(name=name))
        assert result.returncode == 0, result.stderr
        assert "handled while the lock was held" in result.stdout
        assert f"Received {name}; stopping" in result.stdout
        assert f"stopped on {name} done set: False" in result.stdout


def test_the_wait_also_ends_when_the_work_is_done() -> None:
    result = run(STOPS_WHEN_DONE)
    assert result.returncode == 0, result.stderr
    assert "received: None" in result.stdout


def test_a_burst_of_signals_from_outside_stops_it_once() -> None:
    process = subprocess.Popen([sys.executable, "-c", MANY_SIGNALS_FROM_ANOTHER_PROCESS],
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "waiting"
    for _ in range(50):
        process.send_signal(15)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    assert output.count("Received SIGTERM; stopping") == 1
    assert output.strip().endswith("stopped")
