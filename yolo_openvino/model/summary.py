"""A network's summary as the reference prints it: layers, parameters, gradients and GFLOPs at 640 px."""

from __future__ import annotations

import copy


def model_summary(model, name: str, imgsz: int = 640, detailed: bool = False) -> tuple[list[str], tuple]:
    """(lines to print, (layers, parameters, gradients, GFLOPs)) of ``model`` (a YOLOModel).

    GFLOPs as the reference counts them: a forward at one stride-sized input, scaled to ``imgsz`` x ``imgsz``
    (torch's own FlopCounterMode, multiply-adds counted as two operations)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    layers = len(list(model.modules()))
    parameters = sum(p.numel() for p in model.parameters())
    gradients = sum(p.numel() for p in model.parameters() if p.requires_grad)
    stride = max(int(max(model.stride)), 32)
    probe = copy.deepcopy(model).float().eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        probe(torch.zeros(1, 3, stride, stride))
    gflops = counter.get_total_flops() / 1e9 * (imgsz / stride) ** 2
    lines = []
    if detailed:
        lines.append(f"{'layer':>5} {'name':>40} {'gradient':>9} {'parameters':>12} {'shape':>20} {'mu':>10} {'sigma':>10}")
        for i, (key, p) in enumerate(model.named_parameters()):
            sigma = p.float().std().item() if p.numel() > 1 else 0.0
            lines.append(f"{i:5g} {key:>40} {str(p.requires_grad):>9} {p.numel():12g} {str(list(p.shape)):>20} "
                         f"{p.float().mean().item():10.3g} {sigma:10.3g}")
    fused = " (fused)" if not any(getattr(m, "bn", None) is not None for m in model.modules()) else ""
    lines.append(f"{name} summary{fused}: {layers:,} layers, {parameters:,} parameters, {gradients:,} gradients, "
                 f"{gflops:.1f} GFLOPs")
    return lines, (layers, parameters, gradients, gflops)
