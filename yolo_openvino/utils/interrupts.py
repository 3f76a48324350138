"""Ctrl-C and SIGTERM that cannot be lost: raised at once, and remembered in case a library swallows them.

Reported on INT8 export: Ctrl-C during NNCF's calibration was ignored three times out of three, and the
export went on to replace the previous IR. Inside :func:`remembered_interrupts` a signal raises
:class:`Interrupted` (SIGTERM too, so ``finally`` blocks clean up instead of the process dying with a
partial folder), and ``check()`` raises it again before anything is committed even if it was caught.
"""

from __future__ import annotations

import contextlib
import signal
import threading


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived; ``exit_code`` is 130 or 143 as a shell reports them."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.exit_code = 128 + signum


@contextlib.contextmanager
def remembered_interrupts():
    """Yield ``check()``, which raises Interrupted if SIGINT/SIGTERM came since entering the block.

    Outside the main thread signals cannot be handled, so ``check()`` never raises there.
    """
    received: list[int] = []

    def check() -> None:
        if received:
            raise Interrupted(received[0])

    if threading.current_thread() is not threading.main_thread():
        yield check
        return

    def handler(signum, _frame):
        received.append(signum)
        raise Interrupted(signum)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield check
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
