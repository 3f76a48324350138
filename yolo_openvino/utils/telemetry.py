"""No usage statistics sent on the user's behalf without their consent.

``import openvino``, OpenVINO's converter (``openvino.convert_model``) and NNCF send usage statistics when
the user was never asked (no consent file: their ``enable_opt_in_dialog=False`` counts "no answer" as
yes). The sender forks a process from a thread; offline, that child hangs in ``getaddrinfo`` for ever and
keeps the parent's stdout open (seen: an orphan held a test run's output pipe for 20 minutes), and the
fork cost a fresh process about 25 ms of its start-up here. So while we import OpenVINO and while we
export, a user who never answered counts as declined, through the switch all of them honour
(``disable_in_ci``: ``CI=true``). A user who opted in (``opt_in_out --opt_in``, a consent file saying 1)
keeps sending; one who opted out never sends.
"""

from __future__ import annotations

import contextlib
import os


def _never_asked() -> bool:
    """True when no telemetry consent file exists (the user was never asked)."""
    try:
        from openvino_telemetry.utils.opt_in_checker import OptInChecker
    except ImportError:
        return False  # no telemetry package: nothing is sent
    try:
        return not os.path.exists(OptInChecker().consent_file())
    except Exception:  # noqa: BLE001 (its own paths may fail on odd homes: then it declines by itself)
        return False


@contextlib.contextmanager
def unasked_telemetry_off():
    """Within: OpenVINO's and NNCF's telemetry declines for a user who never answered (see the module doc)."""
    if "CI" in os.environ or not _never_asked():
        yield
        return
    os.environ["CI"] = "true"
    try:
        yield
    finally:
        os.environ.pop("CI", None)


def import_openvino():
    """The ``openvino`` module; imported (the first time) with unasked telemetry declined, see the module doc."""
    with unasked_telemetry_off():
        import openvino
    return openvino
