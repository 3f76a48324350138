"""The optimize job: export the variants (precision x input size), score each once on the user's val images, time
every variant under every runtime setting in short interleaved rounds, cut the dominated ones (successive halving),
pick the fastest that keeps the accuracy, confirm it against the baseline in one process, and write the table, the
plot and a deploy folder. Every step is recorded in the run folder's ledger, so a run started again resumes.

Order of the work: the baseline variant first (FP32 at the training size: every drop and speed-up is against it),
then the variants most likely to win (INT8 before FP16, large sizes before small), so a short budget still covers
the promising ones; a step that would not fit the time left is skipped and said so in the table.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UsageError
from ..utils.files import file_size_mb
from .ledger import Ledger
from .search import (Budget, Candidate, Setting, Variant, batch_settings, default_settings, default_sizes, halve,
                     on_devices, pareto, pick, with_full_decode)

LOGGER = logging.getLogger("yolo_openvino")

FIRST_ROUND_S = 1.5  # the first, short timed round of every candidate; each later round doubles
CONFIRM_ROUNDS, CONFIRM_S = 5, 4.0  # the pick against the baseline, interleaved, at the end (medians: noise halves)
SPEED_IMAGES = 64  # end-to-end rounds cycle over at most this many of the scoring images
# Before anything is measured, what a step is expected to take (nano model, 2 cores); replaced by what this run saw.
FIRST_GUESS_S = {"export": 15.0, "export_int8": 60.0, "export_int8_ac": 240.0, "score": 10.0}


@dataclass
class Plan:
    """What to search: ``sizes`` (largest first), ``precisions``, ``settings``; the baseline is the first size's FP32
    under the latency hint, as the reference exports and runs a model."""

    sizes: list[int]
    precisions: list[str]
    settings: list[Setting]
    nms: bool = False  # the task can have NMS in the graph (OpenVINO's op): those variants too, at the first size

    def variants(self) -> list[Variant]:
        """Most promising first: INT8 at each size, then FP32 and FP16, the baseline (FP32, first size) leading;
        with ``nms``, INT8 and FP32 at the first size with NMS in the graph after their host-NMS twins."""
        if self.precisions == ["given"]:  # an IR: itself
            return [Variant("given", self.sizes[0])]
        rank = {"int8": 0, "fp32": 1, "fp16": 2}
        candidates = [Variant(p, s) for s in self.sizes for p in self.precisions if p in rank]
        if self.nms:
            candidates += [Variant(p, self.sizes[0], nms=True) for p in ("int8", "fp32") if p in self.precisions]
        ordered = sorted(candidates, key=lambda v: (rank[v.precision], -v.imgsz, v.nms))
        baseline = self.baseline_variant
        return [baseline] + [v for v in ordered if v != baseline]

    @property
    def baseline_variant(self) -> Variant:
        return Variant("fp32", self.sizes[0])


@dataclass
class OptimizeResult:
    """What ``optimize`` found: every candidate with its figures, the pick (None when nothing keeps the accuracy:
    ``closest`` is then the most accurate), the baseline and pick confirmed side by side, and the files written."""

    folder: Path
    goal: str
    metric_name: str
    reference: float
    images: int
    max_drop: float
    max_latency_ms: float | None
    candidates: list[Candidate]
    pick: Candidate | None
    closest: Candidate | None
    confirmed: dict = field(default_factory=dict)  # {"baseline": {...}, "pick": {...}, "ratio": x}
    deploy: Path | None = None
    machine: dict = field(default_factory=dict)
    reused: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    refusal: str | None = None  # no pick: why, and the closest candidate (one line)

    @property
    def front(self) -> list[Candidate]:
        return pareto(self.candidates, self.goal)

    @property
    def speedup(self) -> float | None:
        return self.confirmed.get("ratio")


def optimize(network, model_path: Path, fmt: str, options: dict, verbose: bool = True) -> OptimizeResult:
    """Search this machine for the fastest deployment of the model that keeps its accuracy (see the module's text).
    ``network``: the torch model of a ``.pt`` (None for an IR: then only its runtime settings are searched);
    ``options``: every option of ``options.OPTIMIZE``, checked (goal, max_drop, max_latency_ms, device, time, imgsz,
    precisions, fraction, data, resume, project, name, exist_ok)."""
    from ..evaluation.validation import scoring_set
    from ..tasks import task_named
    from ..utils.machine import machine
    from .report import finish

    o = options
    budget = Budget(o["time"])
    _check_request(o["data"], fmt, network)
    task = task_named(network.task if network is not None else _ir_task(model_path))
    dataset, items = scoring_set(o["data"], task.name, o["fraction"])
    devices = searched_devices(o["device"])
    plan = _plan(network, model_path, o["imgsz"], o["precisions"], o["goal"])
    plan.settings = on_devices(with_full_decode(plan.settings) if _reduced_decode_matters(items, plan.sizes, task)
                               else plan.settings, devices)
    o = {**o, "device": devices[0] if len(devices) == 1 else None}  # several: each setting names its own
    folder = _run_folder(o["project"] or task.project, o["name"], o["resume"], o["exist_ok"])
    here = machine()
    identity = {"model": str(Path(model_path).resolve()), "model_bytes": round(file_size_mb(model_path) * 1e6),
                "data": str(o["data"]), "fraction": o["fraction"], "device": ",".join(devices),
                "cpu_kind": here["cpu_kind"]}
    ledger = Ledger.open(folder, identity)
    LOGGER.info("optimize %s for %s on %s (%s): %d images of %s, a %g min budget; run folder %s",
                Path(model_path).name, o["goal"], " and ".join(devices), here["cpu_kind"], len(items), o["data"],
                o["time"], folder)
    search = _Search(network, model_path, dataset, items, plan, o, budget, ledger, folder, verbose)
    search.run()
    best, closest = pick(search.candidates, o["goal"], ledger.reference, o["max_drop"], o["max_latency_ms"])
    confirmed = search.confirm(best) if best is not None else {}
    result = OptimizeResult(folder, o["goal"], task.figure_name, ledger.reference, len(items), o["max_drop"],
                            o["max_latency_ms"], search.candidates, best, closest, confirmed, machine=here,
                            reused=ledger.reused, elapsed_s=budget.spent)
    return finish(result, search.exports, o["data"], verbose)


def _check_request(data, fmt: str, network) -> None:
    if not data:
        raise UsageError("optimize needs data=<dataset yaml> (a classifier: its ImageFolder): accuracy is measured "
                         "on its val split, and no candidate is picked without it")
    if network is None and fmt != "openvino":
        raise UsageError(f"optimize searches a .pt's exports or an OpenVINO IR's settings, not a {fmt} model")


def _ir_task(model_path) -> str:
    from ..runtime.backends.openvino_files import find_ir, read_ir_metadata

    return read_ir_metadata(find_ir(model_path)).task


def _plan(network, model_path, imgsz, precisions, goal: str) -> Plan:
    if network is None:  # an IR: its own precision and size, its settings searched
        from ..runtime.backends.openvino_files import find_ir, read_ir_metadata

        meta = read_ir_metadata(find_ir(model_path))
        settings = default_settings(goal) + (batch_settings(goal) if meta.dynamic and meta.batch <= 1 else [])
        return Plan([int(meta.imgsz[0])], ["given"], settings)
    from ..model.checkpoint import trained_imgsz

    trained = trained_imgsz(network)
    trained = int(trained[0] if isinstance(trained, (list, tuple)) else trained)
    stride = int(max(network.stride))
    sizes = sorted({int(math.ceil(s / stride) * stride) for s in (imgsz or default_sizes(trained, stride))},
                   reverse=True)
    from ..tasks import task_named

    return Plan(sizes, list(precisions or ("fp32", "fp16", "int8")), default_settings(goal),
                nms=bool(task_named(network.task).nms_in_graph))


def searched_devices(device) -> list[str]:
    """The devices to search, as OpenVINO names them: one (``cpu``, ``auto:gpu,cpu``), several (a list, or names
    joined by commas without a ``:``: ``cpu,gpu``); one missing here is said and left out (the CPU if none is left)."""
    from ..runtime.backends.openvino_devices import DEFAULT_DEVICE, normalize_device

    if isinstance(device, (list, tuple)):
        names = [normalize_device(d) for d in device]
    elif device and "," in str(device) and ":" not in str(device):
        names = [normalize_device(d) for d in str(device).split(",") if d.strip()]
    else:
        return [normalize_device(device)]
    import openvino as ov

    available = ov.Core().available_devices
    present = [n for n in dict.fromkeys(names) if any(a == n or a.startswith(n + ".") for a in available)]
    if len(present) < len(set(names)):
        LOGGER.warning("devices %s are not on this machine (it has %s): searched without them",
                       sorted(set(names) - set(present)), available)
    return present or [DEFAULT_DEVICE]


def _reduced_decode_matters(items: list, sizes: list[int], task) -> bool:
    """Whether predict's reduced decode reads any scoring image at a reduced scale at one of ``sizes``: then it is
    a setting with an accuracy of its own, searched beside the full decode (else both are the same run)."""
    from ..utils.files import Cover, decodes_reduced

    files = [f[0] if isinstance(f, tuple) else f for f in items]
    fits = [Cover(s, s) if task.crops else (s, s) for s in sizes]
    matters = any(decodes_reduced(f, fit) for f in files for fit in fits)
    if matters:
        LOGGER.info("the reduced JPEG decode reads some of these images at a smaller scale: it is searched beside "
                    "the full decode, each scored for accuracy")
    return matters


def _run_folder(project: str, name: str, resume: bool, exist_ok: bool) -> Path:
    """A new numbered run folder; with ``resume`` the newest ``name*`` folder that holds a ledger (else a new one);
    with ``exist_ok`` ``project/name`` itself."""
    from ..predict.saving import next_run_dir
    from .ledger import LEDGER_FILE

    if resume:
        runs = [p for p in Path(project).glob(f"{name}*") if (p / LEDGER_FILE).is_file()
                and (p.name == name or p.name[len(name):].isdigit())]
        if runs:
            return max(runs, key=lambda p: int(p.name[len(name):] or 1))
    return next_run_dir(project, name, exist_ok=exist_ok)


class _Search:
    """The search's state: candidates, exports, and the estimates that keep it inside the budget."""

    def __init__(self, network, model_path, dataset, items, plan: Plan, options: dict, budget: Budget, ledger: Ledger,
                 folder: Path, verbose: bool):
        self.network, self.model_path = network, Path(model_path)
        self.dataset, self.items = dataset, items
        self.images = [str(f[0] if isinstance(f, tuple) else f) for f in items][:SPEED_IMAGES]
        self.plan, self.goal, self.max_drop = plan, options["goal"], options["max_drop"]
        self.max_latency_ms, self.device = options["max_latency_ms"], options["device"]
        self.budget, self.ledger, self.folder = budget, ledger, folder
        self.candidates: list[Candidate] = []
        self.exports: dict[str, Path] = {}
        self.seen_s = dict(FIRST_GUESS_S)
        self.round_s = FIRST_ROUND_S + 1.5  # a round plus compiling and warming up, until one is timed
        self.progress = None
        self.verbose = verbose

    # -- the whole search ------------------------------------------------------------------------------------------
    def run(self) -> None:
        from tqdm import tqdm

        variants = self.plan.variants()
        with tqdm(desc="optimize", unit=" steps", disable=not self.verbose, leave=False) as self.progress:
            self._reference()
            for variant in variants:
                self._variant(variant)
            self._accuracy_control()
            self._halving()
        self.progress = None

    def _step(self, what: str) -> None:
        if self.progress is not None:
            left = self.budget.left
            self.progress.set_description(f"{what} · {int(left // 60)}:{int(left % 60):02d} left")

    def _done(self, steps: int = 1) -> None:
        if self.progress is not None:
            self.progress.update(steps)

    def _reserve(self) -> float:
        """Seconds kept for the end: the confirmation rounds and writing the outputs."""
        return 2 * CONFIRM_ROUNDS * (CONFIRM_S + 1.5) + 10

    def _fits(self, estimate_s: float) -> bool:
        return self.budget.allows(estimate_s + self._reserve())

    # -- the reference figure -------------------------------------------------------------------------------------
    def _reference(self) -> None:
        if self.ledger.reference is not None:
            self.ledger.note_reuse("the reference figure")
            return
        self._step("reference figure")
        from .measure import score, score_ir

        if self.network is not None:
            from ..runtime.backends import load_backend

            backend = load_backend(self.network, "pytorch", device="cpu")
            self.ledger.reference = round(score(backend, self.dataset, self.items), 5)
        else:  # an IR: its own figure computed in f32, the FP32 IR's
            self.ledger.reference = round(score_ir(self.model_path, self.dataset, self.items, self.device,
                                                   inference_precision="f32"), 5)
        self.ledger.save()

    # -- one variant: export, score, first round of each setting ------------------------------------------------
    def _variant(self, variant: Variant) -> None:
        record = self._export(variant)
        if record is None:
            self._skip(variant, "not run: time budget")
            return
        scored: dict[str, Setting] = {}
        for setting in self.plan.settings:  # one setting per decode x device, in the plan's order
            scored.setdefault(setting.accuracy_key, setting)
        for setting in scored.values():
            if not self._scored(variant, record, setting):
                self._skip(variant, "not run: time budget")
                return
        self._done()
        for setting in self.plan.settings:
            candidate = Candidate(variant, setting, metric=record[setting.accuracy_key], size_mb=record.get("size_mb"))
            self.candidates.append(candidate)
            self._first_round(candidate, record["path"])
            self._done()

    def _scored(self, variant: Variant, record: dict, setting: Setting) -> bool:
        """The variant's figure as ``setting`` runs it (its decode, its device) in its ledger record (measured now,
        or reused); False when scoring does not fit the time left."""
        key = setting.accuracy_key
        how = (", full decode" if setting.decode == "full" else "") + (f" on {setting.device}" if setting.device else "")
        if record.get(key) is not None:
            self.ledger.note_reuse(f"{variant.key}'s figure{how}")
            return True
        if not self._fits(self.seen_s["score"]):
            return False
        self._step(f"{variant.key}: scoring{how}")
        from .measure import score_ir

        started = time.perf_counter()
        record[key] = round(score_ir(record["path"], self.dataset, self.items, setting.device or self.device,
                                     setting.decode), 5)
        record["score_s"] = self.seen_s["score"] = time.perf_counter() - started
        self.ledger.save()
        return True

    def _export(self, variant: Variant) -> dict | None:
        """The variant's ledger record, exporting it first if needed; None when its export does not fit the time."""
        record = self.ledger.variants.get(variant.key)
        if record is not None:
            self.ledger.note_reuse(f"{variant.key}'s export")
            self.exports[variant.key] = Path(record["path"])
            self._done()
            return record
        if self.network is None:  # an IR: the given model itself
            record = {"path": str(self.model_path), "size_mb": round(file_size_mb(self.model_path), 2)}
        else:
            kind = "export_int8_ac" if variant.precision == "int8_ac" else \
                "export_int8" if variant.precision == "int8" else "export"
            if not self._fits(self.seen_s[kind] + self.seen_s["score"]):
                return None
            self._step(f"{variant.key}: exporting")
            started = time.perf_counter()
            path = self._export_variant(variant)
            self.seen_s[kind] = time.perf_counter() - started
            record = {"path": str(path), "size_mb": round(file_size_mb(path), 2), "export_s": round(self.seen_s[kind], 1)}
        self.ledger.variants[variant.key] = record
        self.exports[variant.key] = Path(record["path"])
        self.ledger.save()
        self._done()
        return record

    def _export_variant(self, variant: Variant) -> Path:
        from ..export import export

        args = {"format": "openvino", "imgsz": variant.imgsz, "output": self.folder / "exports" / variant.key}
        if variant.nms:  # scored as validation scores (every box above its threshold), filtered on the host at run time
            from ..options import defaults

            args.update(nms=True, conf=defaults("val")["conf"], iou=defaults("val")["iou"])
        if variant.precision == "fp16":
            args["half"] = True
        elif variant.precision in ("int8", "int8_ac"):
            # scored here like every variant, so the export's own check is not run twice; accuracy control scores on
            # the same share of the val split
            args.update(int8=True, data=self.ledger.identity["data"], int8_check=variant.precision == "int8_ac")
            if variant.precision == "int8_ac":
                args.update(max_drop=self.max_drop, val_images=len(self.items))
        return export(self.network, self.model_path, **args)

    def _skip(self, variant: Variant, why: str) -> None:
        for setting in self.plan.settings:
            self.candidates.append(Candidate(variant, setting, status=why))
        self._done(1 + len(self.plan.settings))

    # -- timed rounds -------------------------------------------------------------------------------------------
    def _first_round(self, candidate: Candidate, path) -> None:
        stored = self.ledger.timings.get(candidate.key)
        if stored and stored.get("rounds"):
            candidate.rounds = [tuple(r) for r in stored["rounds"][:1]]
            candidate.added_mb, candidate.precision = stored.get("grown_mb"), stored.get("precision")
            candidate.peak_rss_mb = stored.get("peak_mb")
            self.ledger.note_reuse(f"{candidate.key}'s first round")
            return
        if not self._fits(self.round_s):
            candidate.status = "not run: time budget"
            return
        self._time(candidate, path, FIRST_ROUND_S)

    def _time(self, candidate: Candidate, path, seconds: float) -> dict:
        from .measure import time_round

        self._step(f"{candidate.key}: timing {seconds:g} s")
        started = time.perf_counter()
        try:
            setting = candidate.setting
            measured = time_round(path, _without_device(setting.runtime), self.images, seconds,
                                  setting.device or self.device, setting.predict)
        except UsageError as e:  # a setting the device refuses: said in the table, the rest searched
            candidate.status = f"failed: {e}"
            return {}
        if seconds == FIRST_ROUND_S:
            self.round_s = time.perf_counter() - started
        candidate.rounds.append(measured["round"])
        candidate.added_mb = max(filter(None, (candidate.added_mb, measured["grown_mb"])), default=None)
        candidate.peak_rss_mb = max(filter(None, (candidate.peak_rss_mb, measured.get("peak_mb"))), default=None)
        candidate.precision = measured["precision"]
        stored = self.ledger.timings.setdefault(candidate.key, {})
        stored.update(rounds=[list(r) for r in candidate.rounds], grown_mb=candidate.added_mb,
                      peak_mb=candidate.peak_rss_mb, precision=candidate.precision)
        self.ledger.save()
        return measured

    def _halving(self) -> None:
        """Rounds of doubling length over the candidates still in the running, interleaved, until two are left."""
        alive = halve(self.candidates, self.goal, self.ledger.reference, self.max_drop, self.max_latency_ms, 1)
        seconds, round_no = FIRST_ROUND_S * 2, 2
        while len(alive) > 2 or (round_no == 2 and len(alive) > 1):
            cost = len(alive) * (self.round_s + seconds - FIRST_ROUND_S)
            if not self._fits(cost):
                LOGGER.info("time budget: round %d of %d candidates skipped", round_no, len(alive))
                break
            for candidate in alive:
                stored = (self.ledger.timings.get(candidate.key) or {}).get("rounds") or []
                if len(stored) >= round_no:  # measured in an earlier run of this folder
                    candidate.rounds = [tuple(r) for r in stored[:round_no]]
                    self.ledger.note_reuse(f"{candidate.key}'s round {round_no}")
                else:
                    self._time(candidate, self.exports[candidate.variant.key], seconds)
                self._done()
            alive = halve(alive, self.goal, self.ledger.reference, self.max_drop, self.max_latency_ms, round_no)
            seconds, round_no = seconds * 2, round_no + 1

    # -- INT8 with accuracy control, when plain INT8 misses the drop --------------------------------------------
    def _accuracy_control(self) -> None:
        """INT8 with NNCF's accuracy control at the largest size where quantizing is what costs the accuracy: FP32 at
        that size keeps ``max_drop``, plain INT8 does not (a size too small for the accuracy is not a case for it)."""
        if self.network is None or "int8" not in self.plan.precisions:
            return
        reference = self.ledger.reference
        first = self.plan.settings[0].accuracy_key  # the first device's, through the reduced decode
        metric = {c.variant: c.metric for c in self.candidates if c.metric is not None and c.setting.accuracy_key == first}
        missed = [s for s in self.plan.sizes if Variant("int8", s) in metric and Variant("fp32", s) in metric
                  and reference - metric[Variant("fp32", s)] <= self.max_drop < reference - metric[Variant("int8", s)]]
        if missed:
            self._variant(Variant("int8_ac", missed[0]))

    # -- the pick against the baseline, side by side -------------------------------------------------------------
    def confirm(self, best: Candidate) -> dict:
        """Baseline (FP32 at the training size, latency hint; for an IR: the IR under the latency hint) and the pick,
        ``CONFIRM_ROUNDS`` interleaved rounds of ``CONFIRM_S`` each: the medians, and the pick's ratio."""
        import numpy as np

        from .measure import time_round

        baseline_path = self.exports.get(self.plan.baseline_variant.key) or self.exports.get(
            Variant("given", self.plan.sizes[0]).key)
        if baseline_path is None:
            return {}
        baseline_device = self.plan.settings[0].device or self.device  # the baseline runs on the first device
        runs = {"baseline": (baseline_path, {"mode": "latency"}, {}, baseline_device),
                "pick": (self.exports[best.variant.key], _without_device(best.setting.runtime), best.setting.predict,
                         best.setting.device or self.device)}
        rounds: dict[str, list] = {k: [] for k in runs}
        for i in range(CONFIRM_ROUNDS):
            for name, (path, runtime, pipeline, device) in runs.items():
                self._step(f"confirming: {name} {i + 1}/{CONFIRM_ROUNDS}")
                rounds[name].append(time_round(path, runtime, self.images, CONFIRM_S, device, pipeline)["round"])
        figures = {name: {"fps": float(np.median([r[0] for r in rs])), "p50_ms": float(np.median([r[1] for r in rs])),
                          "p99_ms": float(np.median([r[2] for r in rs])),
                          "fps_range": [min(r[0] for r in rs), max(r[0] for r in rs)]} for name, rs in rounds.items()}
        b, p = figures["baseline"], figures["pick"]
        ratio = p["fps"] / b["fps"] if self.goal == "throughput" else b["p50_ms"] / p["p50_ms"]
        return {**figures, "ratio": round(ratio, 2), "rounds": CONFIRM_ROUNDS, "seconds": CONFIRM_S}


def _without_device(runtime: dict) -> dict:
    """A setting's runtime options less its device (passed to the measurement on its own)."""
    return {k: v for k, v in runtime.items() if k != "device"}
