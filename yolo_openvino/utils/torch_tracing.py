"""torch's deprecation of tracing, answered once.

torch 2.9+ deprecates ``torch.jit`` (trace, save, load) and the TorchScript-based ONNX exporter in favour of
``torch.export``. We trace on purpose: a ``.torchscript`` file is what ``format=torchscript`` means (LibTorch and
``torch.jit.load`` read it; ``torch.export`` writes another format, ``.pt2``); OpenVINO's ``convert_model`` traces
a module with ``torch.jit`` itself; and our ONNX graphs and their parity bounds are the TorchScript exporter's (the
``torch.export`` one needs ``onnxscript`` and gives other graphs). So the warnings are silenced around exactly
those calls, and nowhere else.
"""

from __future__ import annotations

import contextlib
import warnings

_DEPRECATIONS = (r"`torch\.jit\.\w+` is deprecated",  # trace, trace_method, save, load
                 r"You are using the legacy TorchScript-based ONNX export",
                 r"The feature will be removed")  # the legacy ONNX exporter's logging set-up


@contextlib.contextmanager
def tracing():
    """Run a torch.jit trace, save or load, or a TorchScript-based ONNX export, without torch's deprecation."""
    with warnings.catch_warnings():
        for message in _DEPRECATIONS:
            warnings.filterwarnings("ignore", message=message, category=DeprecationWarning)
        yield
