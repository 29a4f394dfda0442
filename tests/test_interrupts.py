"""Ctrl-C and SIGTERM wait for the compiled code (`groupsim.model.interrupts`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading

import pytest

from groupsim.model import interrupts
from groupsim.model.interrupts import interrupts_wait


class Stopped(Exception):
    """What a test's SIGTERM handler raises (as the CLI's raises `Terminated`)."""


@pytest.fixture
def gates(monkeypatch):
    """Fresh gates in front of Python's Ctrl-C and a SIGTERM handler that raises `Stopped`."""

    def stopped(signum, frame):
        raise Stopped

    previous = {s: signal.getsignal(s) for s in interrupts.HELD_SIGNALS}
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, stopped)
    monkeypatch.setattr(interrupts._Waiting, "installed", False)
    yield
    for signum, handler in previous.items():
        signal.signal(signum, handler)


def test_a_signal_in_the_model_is_raised_when_the_outermost_call_ends(gates):
    steps = []

    @interrupts_wait
    def week(n):
        os.kill(os.getpid(), signal.SIGINT)
        steps.append(sum(range(10_000)))  # Python code runs on: the handler only noted it
        return n

    @interrupts_wait
    def run():
        week(1)
        steps.append("after the first week")  # nested: waits for the outermost call
        week(2)

    with pytest.raises(KeyboardInterrupt):
        run()
    assert steps == [sum(range(10_000)), "after the first week", sum(range(10_000))]
    assert interrupts._Waiting.depth == 0
    assert interrupts._Waiting.pending is None


def test_sigterm_raises_the_handlers_own_exception_after_the_model(gates):
    @interrupts_wait
    def week():
        os.kill(os.getpid(), signal.SIGTERM)
        return "finished"

    with pytest.raises(Stopped):
        week()


def test_outside_the_model_signals_are_handled_as_before(gates):
    interrupts_wait(lambda: None)()  # installs the gates
    assert isinstance(signal.getsignal(signal.SIGINT), interrupts._Gate)
    for signum, raised in ((signal.SIGINT, KeyboardInterrupt), (signal.SIGTERM, Stopped)):
        with pytest.raises(raised):  # the handler runs as soon as os.kill returns
            os.kill(os.getpid(), signum)


def test_an_error_of_the_model_comes_out_unchanged(gates):
    @interrupts_wait
    def failing():
        raise ValueError("bad week")

    with pytest.raises(ValueError, match="bad week"):
        failing()
    assert interrupts._Waiting.depth == 0


def test_another_thread_does_not_hold_the_main_threads_signals(gates):
    interrupts_wait(lambda: None)()
    depths = []
    worker = threading.Thread(
        target=interrupts_wait(lambda: depths.append(interrupts._Waiting.depth))
    )
    worker.start()
    worker.join()
    assert depths == [0]


def test_interrupting_runs_hundreds_of_times_always_gives_keyboard_interrupt(tmp_path):
    # Before the gate, 3 of 4 such Ctrl-Cs became a SystemError out of numba's dispatcher
    # (and one a crash): with 200, a single one that is not a KeyboardInterrupt fails.
    script = textwrap.dedent(
        """
        import collections, signal, threading, time
        import numpy as np
        from groupsim.runs.runner import run
        from groupsim.scenario import load_scenario

        scenario = load_scenario("scenarios/home_room.toml")
        run(scenario, seed=0)
        main = threading.main_thread().ident
        stop = threading.Event()

        def interrupter():
            rng = np.random.default_rng(1)
            while not stop.is_set():
                time.sleep(rng.uniform(0.002, 0.02))
                signal.pthread_kill(main, signal.SIGINT)

        def one_run(seed):
            try:
                run(scenario, seed=seed)
                return "finished"
            except KeyboardInterrupt:
                return "KeyboardInterrupt"
            except Exception as exc:
                return type(exc).__name__ + ": " + str(exc)[:80]

        sender = threading.Thread(target=interrupter, daemon=True)
        sender.start()
        seen = collections.Counter()
        seed = 0
        while True:
            try:
                while seen["KeyboardInterrupt"] < 200:
                    seed += 1
                    seen[one_run(seed)] += 1
                stop.set()
                sender.join()
                break
            except KeyboardInterrupt:  # between two runs, in this loop: not what is counted
                continue
        seen.pop("finished", None)
        print(dict(seen))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        # An earlier test may leave this process ignoring Ctrl-C, which a child would inherit.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "{'KeyboardInterrupt': 200}"


@pytest.mark.parametrize(
    ("signum", "status", "said"),
    [(signal.SIGINT, 130, "groupsim: interrupted"), (signal.SIGTERM, 143, "groupsim: terminated")],
)
def test_the_command_says_how_a_run_was_stopped(signum, status, said, monkeypatch, capsys):
    from groupsim import cli
    from groupsim.runs import runner

    previous = {s: signal.getsignal(s) for s in interrupts.HELD_SIGNALS}
    monkeypatch.setattr(interrupts._Waiting, "installed", False)
    monkeypatch.setattr(cli, "_TERMINATED", [])

    @interrupts_wait
    def stopped_run(scenario, seed):
        os.kill(os.getpid(), signum)  # in the middle of the run: raised as the run returns

    monkeypatch.setattr(runner, "run", stopped_run)
    monkeypatch.setattr(sys, "argv", ["groupsim", "run", "home_room"])
    try:
        with pytest.raises(SystemExit) as stop:
            cli.main()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    assert stop.value.code == status
    assert capsys.readouterr().err.strip().splitlines()[-1] == said
