"""What only a .pt's network does in predict: test-time augmentation, embeddings, feature maps; and the one-line
refusal of each for an exported model. Tiny untrained checkpoints (no ../shared)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from conftest import write_image
from yolo_openvino import YOLO
from yolo_openvino.errors import UsageError


def test_augmented_output_joins_three_views_mapped_back(checkpoint):
    """Full size less its coarsest level, the 0.83 view flipped back, the 0.67 view less its finest level; boxes in
    the input's pixels."""
    from yolo_openvino.model.augment import _rescaled, augmented_forward

    network = YOLO(checkpoint).model
    x = torch.rand(1, 3, 64, 96)
    with torch.no_grad():
        out = augmented_forward(network, x)
        full, flipped, small = (network(_rescaled(v, s, 32)) for v, s in ((x, 1.0), (x.flip(-1), 0.83), (x, 0.67)))
    coarse_full, fine_small = (64 // 32) * (96 // 32), small.shape[-1] * 16 // 21  # levels P3:P4:P5 = 16:4:1
    assert out.shape[-1] == full.shape[-1] - coarse_full + flipped.shape[-1] + small.shape[-1] - fine_small
    torch.testing.assert_close(out[..., :full.shape[-1] - coarse_full], full[..., :-coarse_full])
    mirrored = out[..., full.shape[-1] - coarse_full:][..., :flipped.shape[-1]]
    torch.testing.assert_close(mirrored[:, 0] * 0.83, 96 * 0.83 - flipped[:, 0], atol=1e-3, rtol=0)
    torch.testing.assert_close(mirrored[:, 2] * 0.83, flipped[:, 2])
    torch.testing.assert_close(out[..., -(small.shape[-1] - fine_small):, ][:, :4] * 0.67, small[:, :4, fine_small:])


def test_predict_with_augment(checkpoint, seg_checkpoint, tmp_path, caplog):
    image = write_image(tmp_path / "a.jpg", 64, 64)
    assert YOLO(checkpoint).predict(image, augment=True, conf=0.0, max_det=5, verbose=False)[0].boxes is not None
    YOLO(seg_checkpoint).predict(image, augment=True, verbose=False)  # the reference's: detection only
    assert "test-time augmentation is for detection models" in caplog.text


def test_embed_is_the_pooled_layer_output(checkpoint, tmp_path):
    model = YOLO(checkpoint)
    images = [write_image(tmp_path / f"{k}.jpg", 64, 64) for k in range(3)]
    vectors = model.embed(images, imgsz=64)
    assert len(vectors) == 3 and all(isinstance(v, torch.Tensor) and v.dim() == 1 for v in vectors)
    from yolo_openvino.runtime.predictor import PredictSettings, Predictor

    batch, _ = next(Predictor(model.backend(), PredictSettings(imgsz=64)).batches([str(images[0])]))
    with torch.no_grad():  # the layer before the head is the last neck map: its mean over positions
        expected = model.model._features(torch.from_numpy(batch))[-1].mean((2, 3))[0]
    torch.testing.assert_close(vectors[0], expected)
    last = len(model.model.model) - 2
    two = model.predict(images[:1], embed=[last, 0], imgsz=64, verbose=False)[0]  # joined in layer order
    assert two.shape[0] == vectors[0].shape[0] + model.model.model[0].conv.out_channels


def test_visualize_saves_each_layers_maps(checkpoint, tmp_path):
    image = write_image(tmp_path / "a.jpg", 64, 64)
    results = YOLO(checkpoint).predict(image, visualize=True, save=True, project=str(tmp_path / "runs"),
                                       verbose=False)
    assert len(results) == 1
    run = tmp_path / "runs" / "predict"
    assert sorted(p.name for p in run.iterdir()) == ["a", "a.jpg"]  # one run folder: the maps beside the image
    pngs = sorted((run / "a").glob("*.png"))
    assert pngs and pngs[0].name.startswith("stage") and all(p.with_suffix(".npy").is_file() for p in pngs)
    assert np.load(run / "a" / "stage0_Conv_features.npy").ndim == 3


@pytest.mark.parametrize("asked", [dict(augment=True), dict(visualize=True), dict(embed=[1])])
def test_an_export_refuses_them_in_one_line(tiny_ir, tmp_path, asked):
    with pytest.raises(UsageError, match="needs a .pt's own network; .* is an exported model \\(openvino\\)"):
        YOLO(tiny_ir).predict(write_image(tmp_path / "a.jpg"), **asked)
    with pytest.raises(UsageError, match="embed\\(\\) works on a .pt's network"):
        YOLO(tiny_ir).embed(write_image(tmp_path / "a.jpg"))


def test_embed_layers_out_of_range(checkpoint, tmp_path):
    with pytest.raises(UsageError, match="embed=\\[99\\]: this model's layers are 0 to"):
        YOLO(checkpoint).predict(write_image(tmp_path / "a.jpg"), embed=[99])
