"""AugmentPipeline: shapes, determinism, evaluation view, stretches, surveys, devices and bad inputs."""

import pytest
import torch

from skyssl import surveys
from skyssl.augment import AugmentConfig, AugmentPipeline, SpecError, asinh_stretch, legacy_torgb

LEGACY = surveys.get("legacy-dr9-south")
SDSS = surveys.get("sdss")


def legacy_batch(batch: int = 4, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    images = torch.randn(batch, 3, 152, 152, generator=generator) * 0.005
    images[:, :, 66:86, 66:86] += 0.2
    ebv = torch.full((batch,), 0.03)
    psfsize = torch.full((batch, 3), 1.3)
    psfdepth = torch.full((batch, 3), 800.0)
    return images, ebv, psfsize, psfdepth


def test_default_legacy_views_shape_and_channels():
    pipeline = AugmentPipeline(AugmentConfig(), LEGACY)
    assert pipeline.crop_px == 96 and pipeline.output_channels == 3
    views = pipeline(*legacy_batch(), torch.Generator().manual_seed(1))
    assert views.shape == (4, 3, 96, 96) and views.dtype == torch.float32 and torch.isfinite(views).all()


def test_same_seed_same_views_other_seed_other_views():
    pipeline = AugmentPipeline(AugmentConfig(), LEGACY)
    batch = legacy_batch()
    first = pipeline(*batch, torch.Generator().manual_seed(42))
    again = pipeline(*batch, torch.Generator().manual_seed(42))
    other = pipeline(*batch, torch.Generator().manual_seed(43))
    assert torch.equal(first, again) and not torch.allclose(first, other)


def test_call_is_the_stretch_of_views_nmgy():
    pipeline = AugmentPipeline(AugmentConfig(), LEGACY)
    batch = legacy_batch()
    views = pipeline.views_nmgy(*batch, torch.Generator().manual_seed(9))
    torch.testing.assert_close(pipeline(*batch, torch.Generator().manual_seed(9)),
                               asinh_stretch(views, pipeline.asinh_scale_nmgy))


def test_center_view_is_the_stretched_centre_crop():
    pipeline = AugmentPipeline(AugmentConfig(), LEGACY)
    images = legacy_batch()[0]
    torch.testing.assert_close(pipeline.center_view(images),
                               asinh_stretch(images[..., 28:124, 28:124], pipeline.asinh_scale_nmgy))
    assert torch.equal(pipeline.center_nmgy(images), images[..., 28:124, 28:124])


def test_paper_faithful_pipeline_outputs_legacy_torgb_in_zrg_order():
    pipeline = AugmentPipeline(AugmentConfig.paper_faithful(), LEGACY)
    views = pipeline(*legacy_batch(), torch.Generator().manual_seed(3))
    assert views.shape == (4, 3, 96, 96) and views.min() >= 0 and views.max() <= 1
    images = legacy_batch()[0]
    torch.testing.assert_close(pipeline.center_view(images), legacy_torgb(images[..., 28:124, 28:124]))


def test_sdss_views_without_catalogue_columns():
    pipeline = AugmentPipeline(AugmentConfig(), SDSS)
    images = torch.randn(3, 5, 107, 107) * 0.01
    views = pipeline(images, None, None, None, torch.Generator().manual_seed(0))
    assert views.shape == (3, 5, 64, 64) and pipeline.output_channels == 5 and torch.isfinite(views).all()
    assert pipeline.center_view(images).shape == (3, 5, 64, 64)


def test_float16_stamps_are_widened():
    pipeline = AugmentPipeline(AugmentConfig(), LEGACY)
    images, *columns = legacy_batch(2)
    views = pipeline(images.half(), *columns, torch.Generator().manual_seed(0))
    assert views.dtype == torch.float32


def test_crop_override_and_no_stretch():
    config = AugmentConfig.from_spec("rrjcgn", crop_px=64, jitter_px=3, input_stretch="none")
    pipeline = AugmentPipeline(config, LEGACY)
    views = pipeline(*legacy_batch(2), torch.Generator().manual_seed(0))
    assert views.shape == (2, 3, 64, 64) and pipeline.crop_px == 64


@pytest.mark.parametrize("make, message", [
    (lambda: AugmentPipeline(AugmentConfig.from_spec("ccrg"), SDSS), "needs bands g, r, z"),
    (lambda: AugmentPipeline(AugmentConfig(asinh_scale_nmgy=(0.01, 0.02)), LEGACY), "2 values for 3 bands"),
    (lambda: AugmentPipeline(AugmentConfig(), LEGACY).center_view(torch.zeros(2, 5, 152, 152)), r"\(B, 3, H, W\)"),
    (lambda: AugmentPipeline(AugmentConfig(crop_px=200), LEGACY).center_view(torch.zeros(1, 3, 152, 152)),
     "do not fit"),
])
def test_mismatches_are_one_line_spec_errors(make, message):
    with pytest.raises(SpecError, match=message):
        make()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_views_match_cpu_and_repeat_with_the_seed():
    pipeline = AugmentPipeline(AugmentConfig(), LEGACY)
    batch = legacy_batch()
    cpu = pipeline(*batch, torch.Generator().manual_seed(5))
    cuda_batch = [t.cuda() for t in batch]
    on_gpu = pipeline(*cuda_batch, torch.Generator().manual_seed(5))  # CPU generator: same draws
    torch.testing.assert_close(on_gpu.cpu(), cpu, rtol=1e-4, atol=1e-4)
    device_generator = torch.Generator(device="cuda")
    first = pipeline(*cuda_batch, device_generator.manual_seed(8))
    again = pipeline(*cuda_batch, device_generator.manual_seed(8))
    assert first.is_cuda and torch.equal(first, again)
