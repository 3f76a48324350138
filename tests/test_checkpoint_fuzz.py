"""Hostile checkpoints, generated: every case ends in our own error naming the file (or loads), never in
another exception, a hang, or memory beyond a few times the file's size.

Three families: byte flips and truncations of a real-layout checkpoint in both torch formats (the legacy
format has no CRC, so flips reach the unpickler), and hostile values written into the fields we read
(architecture, names, stride). A few hundred cases in the default run, thousands under ``-m slow``.
"""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ultralytics_fakes
from yolo_openvino.model.checkpoint import load_model
from yolo_openvino.errors import CheckpointError, UnsupportedError
from yolo_openvino.utils.memory import PeakMemory

# (byte cases, field cases): a field case saves and loads a model (~0.4 s: the safety check's meta-device build
# dominates), a byte case mostly fails fast. The quick set is a smoke test; the thorough one is the proof.
EXAMPLES = [pytest.param((50, 15), id="quick"), pytest.param((1500, 1500), id="thorough", marks=pytest.mark.slow)]
HOSTILE = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([None, True, "", "nc", "None", "Conv", "__import__('os')", [], {}, [[-1]], 10**7, -1, 0]),
    st.text(max_size=12), st.lists(st.integers(-3, 2**31), max_size=4),
)


@pytest.fixture(scope="module")
def originals(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    ultralytics_fakes.save_checkpoint(folder / "zip.pt")
    ultralytics_fakes.save_checkpoint(folder / "legacy.pt", legacy=True)
    for name in ("zip.pt", "legacy.pt"):  # the unmutated files load (else every case could pass by failing),
        load_model(folder / name)  # and the one-time imports are done before memory is measured
    # torch initialises its error reporting (~75 MB, once per process) the first time a meta-device build fails
    arch = ultralytics_fakes.tiny_arch()
    arch["backbone"][8][0] = 0  # layer 8 reads layer 0: shapes that cannot be concatenated
    ultralytics_fakes.save_checkpoint(folder / "warm.pt", yaml=arch)
    with pytest.raises(CheckpointError, match="cannot build the stored architecture"):
        load_model(folder / "warm.pt")
    return {"zip": (folder / "zip.pt").read_bytes(), "legacy": (folder / "legacy.pt").read_bytes()}


def _load_bounded(path, size: int) -> None:
    """Load ``path``: it may succeed or raise our error naming it; memory must stay within a few times its size."""
    with PeakMemory(interval_s=0.002) as memory:
        try:
            load_model(path)
        except (CheckpointError, UnsupportedError) as e:
            assert str(e).startswith(str(path)), f"error does not name the file: {e}"
    if memory.grown_mb is not None:
        assert memory.grown_mb < 64 + 8 * size / 1e6, f"memory grew by {memory.grown_mb:.0f} MB"


def _case_path(tmp_path_factory):
    return tmp_path_factory.mktemp("case") / "fuzzed.pt"


@pytest.mark.timeout(900)
@pytest.mark.parametrize("examples", EXAMPLES)
def test_byte_flips_and_truncations(originals, tmp_path_factory, examples):
    path = _case_path(tmp_path_factory)

    @settings(max_examples=examples[0], deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(kind=st.sampled_from(["zip", "legacy"]), data=st.data())
    def case(kind, data):
        raw = bytearray(originals[kind])
        if data.draw(st.booleans(), label="truncate"):
            raw = raw[: data.draw(st.integers(0, len(raw) - 1), label="length")]
        else:
            for _ in range(data.draw(st.integers(1, 8), label="flips")):
                at = data.draw(st.integers(0, len(raw) - 1), label="at")
                raw[at] ^= data.draw(st.integers(1, 255), label="mask")
        path.write_bytes(bytes(raw))
        _load_bounded(path, len(raw))

    case()


def _set(arch: dict, where: list, value) -> None:
    target = arch
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value


def _field_paths(arch: dict) -> list[list]:
    """Every scalar position of the architecture dict, as key paths."""
    paths = [["nc"], ["scale"], ["scales", "t", 0], ["scales", "t", 1], ["scales", "t", 2]]
    for part in ("backbone", "head"):
        for i, (_source, _repeats, _name, args) in enumerate(arch[part]):
            paths += [[part, i, 0], [part, i, 1], [part, i, 2]] + [[part, i, 3, j] for j in range(len(args))]
    return paths


@pytest.mark.timeout(900)
@pytest.mark.parametrize("examples", EXAMPLES)
def test_mutated_fields(originals, tmp_path_factory, examples):
    base = ultralytics_fakes.tiny_arch()
    paths = _field_paths(base)
    path = _case_path(tmp_path_factory)

    @settings(max_examples=examples[1], deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(where=st.sampled_from(paths + [["names"], ["stride"], ["yaml"]]), value=HOSTILE)
    def case(where, value):
        arch = copy.deepcopy(base)
        fields = {}
        if where[0] in ("names", "stride", "yaml"):
            fields[where[0]] = value
        else:
            _set(arch, where, value)
            fields["yaml"] = arch
        ultralytics_fakes.save_checkpoint(path, arch=ultralytics_fakes.tiny_arch(), **fields)
        _load_bounded(path, path.stat().st_size)

    case()
