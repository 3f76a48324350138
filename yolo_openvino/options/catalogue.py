"""The catalogue: every user-facing option of every command, declared once. Options that several commands share
are declared once here and varied where a command needs another default or help (``Option.but``)."""

from __future__ import annotations

from .option import Option, _opt

MODEL = _opt("model", "str", "yolov8n.pt", "`.pt`, architecture name (`yolov8n.yaml`), `.onnx`, `.torchscript` or "
             "`*_openvino_model/`", none=False)
TASK = _opt("task", "str", None, "the model's task (`detect`, `segment`, `pose`, `obb`, `classify`), checked against the model: as the task "
            "word of `yolo-ov segment predict ...` (default: the model's own)")
RUNTIME = (
    _opt("device", "str", None, "`cpu`, `gpu`, `gpu.1`, `npu`, `auto`, `auto:gpu,cpu`, `multi:gpu,cpu`, `intel:gpu` or "
         "any OpenVINO device; an unavailable one falls back with a warning naming what exists (default `cpu`)"),
    _opt("mode", "choice", None, "OpenVINO performance hint (default: latency for one image, throughput for many)",
         choices=("latency", "throughput", "cumulative_throughput")),
    _opt("streams", "streams", None, "NUM_STREAMS, an int or AUTO (default: the hint's choice)"),
    _opt("requests", "int", None, "infer requests kept in flight (default: the device's optimal number, plus one per CPU stream)", low=1, high=1024),
    _opt("threads", "int", None, "INFERENCE_NUM_THREADS (default: the device's choice)", low=1, high=4096),
    _opt("pinning", "bool", None, "ENABLE_CPU_PINNING (default: the device's choice)"),
    _opt("inference_precision", "choice", None, "INFERENCE_PRECISION_HINT: `f32` for bit-level parity with PyTorch "
         "(default: the device's own, bf16 on CPUs with AVX512_BF16 or AMX, f32 on AVX2-only ones)",
         choices=("f32", "bf16", "f16")),
    _opt("config", "json", None, "any OpenVINO properties, a dict (JSON on the command line), applied last"),
    _opt("cache_dir", "str", None, "OpenVINO model cache folder (faster start after the first)"),
    _opt("mmap", "bool", None, "memory-map the weights (default: OpenVINO's, on)"),
    _opt("preprocess", "choice", None, "`device`: a PrePostProcessor makes the device take uint8 BGR HWC and convert "
         "it in the graph; `host`: float NCHW made in the prefetch threads (default: `device`, but `host` for "
         "latency with a `cache_dir`, where compiling from the path starts faster)", choices=("host", "device")),
)
PROJECT_HELP = "output root (default `runs/<task>`: `runs/detect`, `runs/segment`)"  # numbered run folders inside
# Detections per image when nothing else says: predict's NMS, an in-graph NMS's or NMS-free head's rows, COCO's
# maxDets in validation. Its one home: every default of max_det below and in the code is this.
DEFAULT_MAX_DET = 300
MAX_DET_HELP = (f"maximum detections per image (default {DEFAULT_MAX_DET}; a model exported with NMS or YOLO26's NMS-free head "
                "gives the rows it was exported with, and refuses more)")
SOURCE = _opt("source", "any", None, "image, folder, glob, list, video, URL, rtsp stream or webcam index")
IMGSZ = _opt("imgsz", "imgsz", None, "inference size for dynamic models and `.pt`, int or h,w (default: the model's: "
             "a `.pt`'s training size, an export's input size)")
CONF = _opt("conf", "float", 0.25, "confidence threshold", low=0, high=1, none=False)
IOU = _opt("iou", "float", 0.7, "NMS IoU threshold", low=0, high=1, none=False)
MAX_DET = _opt("max_det", "int", None, MAX_DET_HELP, low=1, high=100_000)
CLASSES = _opt("classes", "classes", None, "keep only these class ids, e.g. `0,2`")
AGNOSTIC_NMS = _opt("agnostic_nms", "bool", False, "class-agnostic NMS", none=False)
BATCH = _opt("batch", "int", 1, "images per inference (dynamic models; static batch models always get full, padded "
             "batches)", low=1, high=1024, none=False)
# What a model's detections on one image depend on: the settings a Ray worker and a service replica apply.
PER_REQUEST = (CONF, IOU, MAX_DET)  # what a service request may change (query parameters)
DETECTION = (IMGSZ, *PER_REQUEST, CLASSES, AGNOSTIC_NMS)
SAVE_CONF = _opt("save_conf", "bool", False, "with `save_txt`: each line ends with its confidence", none=False)
EXIST_OK = _opt("exist_ok", "bool", False, "write into `project/name` even if it exists (default: the next free name)",
                none=False)
OUTPUT = (  # where and what predict saves
    _opt("save", "bool", False, "save annotated images and videos", none=False),
    _opt("save_txt", "bool", False, "save YOLO txt labels", none=False),
    SAVE_CONF,
    _opt("save_json", "bool", False, "save `predictions.json`", none=False),
    _opt("save_crop", "bool", False, "save each box's crop in `crops/<class name>/`", none=False),
    _opt("save_frames", "bool", False, "save every video frame as an image in `frames/`", none=False),
    _opt("project", "str", None, PROJECT_HELP),
    _opt("name", "str", "predict", "run folder name (`predict`, `predict2`, ... never overwritten)", none=False),
    EXIST_OK,
)
NETWORK = (  # what only a .pt's own network can do (predict; an export refuses them in one line)
    _opt("augment", "bool", False, "test-time augmentation of a `.pt` detector: the image at scales 1, 0.83 and 0.67 "
         "(the middle one flipped left-right), their boxes merged by NMS", none=False),
    _opt("visualize", "bool", False, "a `.pt`: save every layer's feature maps (first 32 channels as a PNG, all as "
         "`.npy`) in `<run folder>/<image stem>/`", none=False),
    _opt("embed", "layers", None, "a `.pt`: return each image's feature vector (these layers' outputs, average-pooled "
         "and joined) instead of Results, e.g. `21` or `15,18,21`"),
)
PREDICT = (
    SOURCE, *DETECTION,
    _opt("nms", "bool", None, "end-to-end models (YOLO26) from a `.pt`: `False` runs the NMS-free one-to-one head; "
         "default (or `True`) the one-to-many head with NMS. An export runs the head it was exported with"),
    BATCH,
    _opt("reduced_decode", "bool", True, "decode large JPEGs at 1/2, 1/4 or 1/8 when that still covers the model "
         "input (several times faster for 1080p and 4K; pixels differ slightly from a full decode: `False` for "
         "bit-level parity with the reference). Never with `save`", none=False),
    _opt("retina_masks", "bool", False, "segment: masks at the original image size (default: at the inference "
         "shape, as the reference)", none=False),
    *OUTPUT,
    _opt("show", "bool", False, "show each result in a window (needs a display)", none=False),
    _opt("workers", "int", 2, "decode and letterbox threads", low=1, high=64, none=False),
    *NETWORK,
)
TRACKING = (  # what tracking adds to predict's options
    _opt("tracker", "str", "bytetrack.yaml", "`bytetrack.yaml`, `botsort.yaml` (camera-motion compensation) or the "
         "path of your own tracker yaml with the same keys", none=False),
    _opt("persist", "bool", False, "keep the trackers (and their ids) from one `track` call to the next: frame by "
         "frame from your own loop", none=False),
    _opt("trail", "int", 0, "with `save`: draw each track's last N centres on the video", low=0, high=10_000,
         none=False),
)
# Tracking keeps weak detections (conf 0.1, as the reference's track): its second association matches them to
# tracks whose object is half hidden. Saved runs are named `track`.
TRACK = (*TRACKING, *(
    CONF.but(default=0.1, help="confidence threshold (low on purpose: weak detections keep occluded tracks alive)")
    if o is CONF else
    _opt("name", "str", "track", "run folder name (`track`, `track2`, ... never overwritten)", none=False)
    if o.name == "name" else o for o in PREDICT if o not in NETWORK))
ADDRESS = _opt("address", "str", None, "Ray cluster: `auto`, `host:6379` or `ray://host:10001` (default: start a "
             "local one); a token-authenticated cluster needs `RAY_AUTH_MODE=token` and its token in the environment")
ENGINE = _opt("engine", "choice", "local", "`ray`: a Ray Data job over the source (folder, glob, list, `s3://`, "
              "`gs://`), one Parquet row per input in `output`", choices=("local", "ray"), none=False)
SCALE = (
    ENGINE,
    ADDRESS,
    _opt("output", "str", None, "engine=ray: the Parquet folder to write (`preds.parquet`); never replaces anything but "
         "an earlier output"),
    _opt("actors", "int", None, "engine=ray: model actors (default: as many as fit, leaving CPUs for reading)", low=1,
         high=100_000),
    _opt("cpus_per_actor", "float", None, "engine=ray: CPUs each actor declares, fractions allowed (default: what fits, "
         "at most 4)", low=0.01, high=1024),
)
SERVE = (
    _opt("host", "str", "127.0.0.1", "interface to listen on (`0.0.0.0`: every interface)", none=False),
    _opt("port", "int", 8000, "HTTP port (0: a free one, printed at start)", low=0, high=65535, none=False),
    ADDRESS,
    ENGINE.but(default=None, none=True, help="`local`: the model in this process, one machine at local speed; `ray`: "
               "replicas on Ray Serve (default: `local`, or `ray` when `address` is given)"),
    _opt("drain_s", "float", 30.0, "on SIGTERM or SIGINT: how long requests in flight may take to finish (readiness "
         "answers 503 `draining` meanwhile, new connections are refused)", low=0, high=3600, none=False),
    _opt("ui", "bool", True, "a page at `GET /` to try the service from a browser: drop an image, see it drawn and "
         "its JSON (self-contained, no CDN; the API key is typed into it)", none=False),
    _opt("replicas", "int", 1, "Ray: model replicas", low=1, high=100_000, none=False),
    _opt("cpus_per_replica", "float", None, "Ray: CPUs each replica declares, fractions allowed (default: what fits, at "
         "most 4)", low=0.01, high=1024),
    _opt("max_batch_size", "int", 8, "Ray: requests batched together by a replica (`@serve.batch`)", low=1,
         high=1024, none=False),
    _opt("batch_wait_ms", "float", 5.0, "Ray: how long a replica waits to fill a batch", low=0, high=60_000,
         none=False),
    _opt("max_body_mb", "float", 20.0, "request size limit (413 above it)", low=0.001, high=10_000, none=False),
    _opt("max_pixels", "float", 40.0, "largest image accepted, in megapixels, read from its header before any "
         "decoding (413 above it)", low=0.001, high=1000, none=False),
    _opt("decode_timeout_s", "float", 2.0, "time one image may take to decode, in the ingress's decode threads (off "
         "the model replicas): 413 after it, so an expensive image never holds up the others' answers", low=0.01,
         high=3600, none=False),
    _opt("body_timeout_s", "float", 10.0, "time a client has to send its whole body (408 and the connection closed "
         "after it); its request headers get as long again (the connection closed after it)", low=0.1, high=3600,
         none=False),
    _opt("api_key", "str", None, "when set, every request but the health probes (`/healthz`, `/healthz/live`, "
         "`/healthz/ready`) needs `Authorization: Bearer <key>`, `/metrics` too (401 "
         "otherwise); default: the environment's `YOLO_OV_API_KEY`, else none (a warning with `host=0.0.0.0`)"),
    _opt("autoscaling", "json", None, "Ray Serve `autoscaling_config`, e.g. `{\"min_replicas\": 1, \"max_replicas\": 4}` "
         "(instead of `replicas`)"),
    *DETECTION,
)
EXPORT = (
    _opt("format", "choice", "openvino", "export format", choices=("openvino", "onnx", "torchscript"), none=False),
    _opt("imgsz", "imgsz", None, "int or h,w; rounded up to a multiple of the stride (32), with a warning (default: "
         "the checkpoint's training size, `train_args.imgsz`, else 640)"),
    _opt("half", "bool", False, "FP16 weights (OpenVINO: compressed weights; ONNX: fp16 graph with fp32 I/O; "
         "TorchScript: CUDA only)", none=False),
    _opt("int8", "bool", False, "NNCF post-training INT8 (OpenVINO), calibrated on `data`; the head's decode stays "
         "float", none=False),
    _opt("dynamic", "bool", False, "dynamic batch and spatial dims; the runtime then letterboxes minimally", none=False),
    _opt("nms", "bool", None, "`True`: NMS inside the IR, output (batch, max_det, 6 + E) = x1,y1,x2,y2,score,class and "
         "the task's E extra channels (mask coefficients, keypoints; OBB: cx,cy,w,h,score,class,angle); segment keeps "
         "its prototypes as output1; "
         "`False` on an end-to-end model (YOLO26): its NMS-free one-to-one head, top-k in the graph, the same output; "
         "default: the one-to-many head, NMS at run time"),
    _opt("end2end", "bool", None, "Ultralytics 8.4's deprecated spelling of `nms` (a warning, then as `nms`; `nms` "
         "wins when both are given)"),
    BATCH.but(help="static batch (the batch of an `nms=True` model stays static)"),
    _opt("data", "str", None, "calibration dataset yaml (Ultralytics layout; a classifier: its ImageFolder), "
         "required for INT8 (300+ images recommended)"),
    _opt("fraction", "float", 1.0, "fraction of the calibration images used (at most `subset_size`)", low=1e-6,
         high=1, none=False),
    _opt("device", "str", "cpu", "export device", none=False),
    CONF.but(help="score threshold baked into `nms=True` models"),
    IOU.but(help="IoU threshold baked into `nms=True` models"),
    MAX_DET.but(default=DEFAULT_MAX_DET, help="detections per image of `nms=True` models", none=False),
    AGNOSTIC_NMS.but(help="class-agnostic NMS in `nms=True` models"),
    _opt("opset", "int", None, "ONNX opset (default 17)", low=7, high=23),
    _opt("simplify", "bool", True, "ONNX: simplify the graph with onnxslim (constant folding, shape ops fused), as "
         "the reference does by default", none=False),
    _opt("optimize", "bool", False, "TorchScript: PyTorch's mobile optimization (needs a PyTorch built with "
         "XNNPACK; saved as a regular TorchScript file)", none=False),
    _opt("max_drop", "float", None, "INT8: the largest absolute drop of the task's metric accepted; beyond it, "
         "NNCF's accuracy control (`nncf.quantize_with_accuracy_control`) keeps the costliest layers in float",
         low=0, high=1),
    _opt("subset_size", "int", 300, "calibration images, at most", low=1, high=100_000, none=False),
    _opt("int8_check", "bool", True, "after INT8, score it and the FP32 model with the task's metric on `val_images` "
         "of `data`'s val split (f32): printed and recorded in `metadata.yaml` (`int8_check`); a drop beyond "
         "`max_drop` switches to accuracy control, one above 0.03 without it is a warning", none=False),
    _opt("val_images", "int", 100, "images the INT8 check (and accuracy control) scores on, at most", low=1,
         high=100_000, none=False),
    _opt("ovms", "bool", False, "OpenVINO: also write an OpenVINO Model Server repository beside the IR (`<stem>_ovms/`: "
         "`<stem>/1/model.xml`, `.bin`, and `config.json` with a THROUGHPUT hint)", none=False),
    _opt("output", "str", None, "output path (default beside the model: `<stem>_openvino_model/`, "
         "`<stem>_int8_openvino_model/`, `<stem>.onnx`, `<stem>.torchscript`); never an existing path that is "
         "not an earlier export of the same kind"),
)
VAL = (
    _opt("data", "str", "coco8.yaml", "dataset yaml (Ultralytics layout); a classifier: an ImageFolder folder "
         "(`<split>/<class>/<image>`) or a yaml whose `path` is one", none=False),
    _opt("imgsz", "imgsz", None, "inference size (default: the model's: a `.pt`'s training size, an export's input "
         "size)"),
    BATCH.but(help="batch size"),
    CONF.but(default=0.001),  # every detection, as COCO's evaluation expects
    IOU,
    MAX_DET,
    CLASSES.but(help="score only these class ids, e.g. `0,2`"),
    AGNOSTIC_NMS,
    _opt("nms", "bool", None, "end-to-end models (YOLO26) from a `.pt`: `False` validates the NMS-free one-to-one "
         "head; default (or `True`) the one-to-many head with NMS"),
    _opt("split", "choice", "val", "dataset split", choices=("train", "val", "test"), none=False),
    _opt("rect", "bool", None, "minimal per-image padding (default: on for dynamic models and `.pt`, off for static "
         "exports)"),
    _opt("save_json", "bool", False, "write `metrics.json` and, with boxes, COCO-format `predictions.json`", none=False),
    _opt("save_txt", "bool", False, "write each image's predictions as a YOLO label file in `labels/`", none=False),
    SAVE_CONF,
    _opt("plots", "bool", False, "write the confusion matrix (counts and normalized) and the precision-recall, F1, "
         "precision and recall curves as PNGs (matplotlib)", none=False),
    _opt("project", "str", None, PROJECT_HELP),
    _opt("name", "str", "val", "run folder name (`val`, `val2`, ...)", none=False),
    EXIST_OK,
)
BENCHMARK = (
    _opt("data", "str", None, "table: the validation set (default `coco8.yaml`); report: its val images feed the "
         "end-to-end rows"),
    _opt("imgsz", "imgsz", None, "table: export and validation size (default 640)"),
    _opt("format", "any", None, "table rows: `pytorch`, `torchscript`, `onnx`, `openvino`, `openvino_fp16`, "
         "`openvino_int8` (comma-separated for several; default all)"),
    _opt("device", "str", None, "device for validation / the report (default `cpu`)"),
    _opt("modes", "bool", None, "the latency/throughput report (default: on for OpenVINO models)"),
    _opt("source", "any", None, "report: images for the end-to-end rows (default: the dataset's, else generated)"),
    _opt("images", "int", 32, "report: at most this many of those images, the first in order (the report says how "
         "many of how many)", low=1, high=100_000, none=False),
    _opt("seconds", "float", 3.0, "report: seconds per measurement", low=0.01, high=3600, none=False),
    _opt("repeats", "int", 3, "report: interleaved repeats of every configuration (median and min-max shown)",
         low=1, high=100, none=False),
    _opt("sweep", "bool", True, "report: streams x requests sweep", none=False),
    _opt("startup", "bool", True, "report: compile and first inference without/with cache, without mmap", none=False),
    _opt("project", "str", None, "where CSV, JSON (and the PNG plot) are written (default `runs/<task>`)"),
    _opt("name", "str", None, "run folder name (default `benchmark` for the table, `modes` for the report)"),
)
OPTIMIZE = (
    _opt("data", "str", None, "dataset yaml (a classifier: its ImageFolder): accuracy is measured on its val split; "
         "required"),
    _opt("goal", "choice", "throughput", "`throughput` (images/s end to end) or `latency` (p50 ms of one image)",
         choices=("throughput", "latency"), none=False),
    _opt("max_drop", "float", 0.01, "the largest absolute drop of the task's metric (mask/pose/box mAP50-95, top-1) "
         "accepted, against the `.pt`'s on the same images (an IR: its own in f32)", low=0, high=1, none=False),
    _opt("max_latency_ms", "float", None, "also keep the p50 latency end to end at or under this", low=0.01,
         high=1e6),
    _opt("device", "str", None, "the OpenVINO device searched (default `cpu`)"),
    _opt("time", "float", 10.0, "budget in minutes; steps that would not fit are skipped and said so", low=0.1,
         high=10_000, none=False),
    _opt("imgsz", "sizes", None, "input sizes tried, e.g. 640,512 (default: the training size and two smaller "
         "multiples of 32 down to 60% of it)"),
    _opt("precisions", "choices", None, "precisions tried (default all three; INT8 with accuracy control is added "
         "when plain INT8 misses `max_drop`)", choices=("fp32", "fp16", "int8")),
    _opt("fraction", "float", 1.0, "share of the val split accuracy is measured on (evenly spread)", low=1e-6, high=1,
         none=False),
    _opt("resume", "bool", False, "continue the newest `project/name*` run: its exports and measurements are reused",
         none=False),
    _opt("project", "str", None, PROJECT_HELP),
    _opt("name", "str", "optimize", "run folder name (`optimize`, `optimize2`, ...)", none=False),
    _opt("exist_ok", "bool", False, "write into `project/name` even if it exists (what it measured is reused)",
         none=False),
)
DEMO = (
    _opt("model", "str", "yolov8n.yaml", "model to export and run (built untrained from an architecture name)",
         none=False),
    _opt("project", "str", "runs/demo", "output root", none=False),
)

COMMANDS: dict[str, tuple[Option, ...]] = {
    "predict": (MODEL, TASK, *PREDICT, *SCALE, *RUNTIME),
    "track": (MODEL, TASK, *TRACK, *RUNTIME),
    "export": (MODEL, TASK, *EXPORT),
    "val": (MODEL, TASK, *VAL, *RUNTIME),
    "benchmark": (MODEL, TASK, *BENCHMARK),
    "optimize": (MODEL, TASK, *OPTIMIZE),
    "serve": (MODEL, TASK, *SERVE, *RUNTIME),
    "demo": DEMO,
    "checks": (),
    "cfg": (),
    "settings": (),  # its own words: `settings`, `settings reset`, `settings key=value` (cli/app.py)
}
HELP = {
    "predict": "detect objects in images, folders, videos, URLs",
    "track": "follow objects across video frames (ByteTrack, BoT-SORT): one stream or many through one model",
    "export": "export a .pt to OpenVINO IR (FP32/FP16/INT8), ONNX or TorchScript",
    "val": "COCO mAP on a YOLO-format dataset",
    "benchmark": "per-format table (size, mAP, speed) from a .pt, or the latency/throughput report of an OpenVINO model",
    "optimize": "search precision, input size and runtime settings on this machine and your data: the fastest "
                "deployment that keeps your accuracy, in a deploy folder every command picks up",
    "serve": "an HTTP detection service: POST /predict, GET /healthz, GET /metrics; the model in this process, or "
             "replicas on Ray Serve (address= or engine=ray)",
    "demo": "offline end-to-end demo: build, export, run on generated images",
    "checks": "what this machine has: versions, the CPU kind and its flags, OpenVINO's devices and their precisions, "
              "the extras installed",
    "cfg": "every command's defaults, as YAML",
    "settings": "show the settings (where runs, weights and datasets go); `settings key=value` changes one, "
                "`settings reset` restores the defaults",
}


