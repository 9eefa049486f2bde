"""The augmentation pipeline: a batch of stamps in nanomaggies → a batch of network-ready views.

The ops run in the papers' order — extinction → flips/rotation → size scale → blur → jitter/crop →
noise → input stretch — fused into as few passes over the pixels as that order allows:

1. **One affine resample** (:func:`skyssl.augment.geometry.affine_views`) does flips, rotation, size
   scale, jitter and crop. It samples a crop R pixels wider on every side than the view, where
   R = ⌈4 σ_aug⌉ for the batch's largest added blur (one device→host read of that maximum per batch;
   the padded size, and only it, varies between batches).
2. **Blur** (:func:`skyssl.augment.blur.separable_blur`, ``valid`` mode) runs on that padded crop and
   returns exactly the view. Every kept pixel's kernel lies on resampled stamp data, so this equals the
   authors' "blur the whole rotated, rescaled stamp, then crop" — the papers' order, not a reordering —
   at a fraction of the cost of blurring the full stamp.
3. **Reddening** multiplies each band by T(E_new)/T(E_old). It is a per-band constant, which commutes
   with resampling and blur, so it is applied on the small view instead of first on the stamp — folded
   into the blur's x kernel when there is a blur, so it costs no pass of its own.
4. **Noise** is added on the view, then the input stretch.

Two corrections over the released code, on by default and off in the ``paper_faithful`` profile:

- *Blur after size scale.* Magnifying by s widens the PSF already in the image to s·σ_true (output
  pixels), so the isotropic mode blurs from s·σ_true to σ_final and the view's PSF is σ_final exactly;
  the authors blurred from σ_true, leaving s·σ_true ≠ σ_final. (The one-axis legacy mode keeps σ_true.)
- *Noise that the view already lost* (``track_noise_true``). Reddening scales the image's own noise by
  T and the blur lowers white noise by Σk² (see :func:`skyssl.augment.blur.noise_retention`), so the
  noise already present is σ_true·T·Σk², and only the difference to σ_final is added. Without this,
  blurred or reddened views come out less noisy than σ_final.

Not corrected, as in the authors' chain: bilinear resampling at fractional pixel positions also smooths
the noise (by up to 1/3 in σ at half-pixel offsets); the factor varies across a rotated view and is not
tracked. Where σ_final < σ_true a view is neither sharpened nor denoised.
"""

from __future__ import annotations

import torch
from torch import Tensor

from skyssl.augment import conditions as cond
from skyssl.augment.blur import added_sigma_px as blur_sigma_px
from skyssl.augment.blur import gaussian_kernels_1d, kernel_radius_px, noise_retention, separable_blur
from skyssl.augment.draws import ViewDraws, draw_views
from skyssl.augment.extinction import reddening_factor
from skyssl.augment.geometry import affine_views, centre_crop
from skyssl.augment.noise import add_noise_differential
from skyssl.augment.spec import AugmentConfig, SpecError
from skyssl.augment.stretch import asinh_stretch, legacy_torgb
from skyssl.surveys import Survey

LEGACY_TORGB_BANDS = ("g", "r", "z")


class AugmentPipeline:
    """Views of a survey's stamps as defined by an :class:`AugmentConfig`; pure given its generator.

    ``pipeline(images, ebv, psfsize, psfdepth, generator)`` returns the stretched network input;
    :meth:`views_nmgy` the same views before the stretch (for display); :meth:`center_view` the
    deterministic evaluation view. Catalogue arguments may be None (→ prior draws).
    """

    def __init__(self, config: AugmentConfig, survey: Survey):
        self.config = config
        self.survey = survey
        self._crop_px = config.crop_px or survey.crop_size_px
        if config.input_stretch == "legacy_torgb" and survey.bands != LEGACY_TORGB_BANDS:
            raise SpecError(f"the legacy ToRGB input ('rg') needs bands g, r, z; {survey.name} has "
                            f"{', '.join(survey.bands)}")
        scales = config.asinh_scale_nmgy or tuple(cond.median_noise_sigma_nmgy(survey).tolist())
        if len(scales) != survey.n_bands:
            raise SpecError(f"asinh_scale_nmgy has {len(scales)} values for {survey.n_bands} bands of {survey.name}")
        self._asinh_scale_nmgy = tuple(float(s) for s in scales)
        self._extinction_r = torch.tensor(survey.extinction_r, dtype=torch.float32)

    # --- description ---------------------------------------------------------------------------
    @property
    def crop_px(self) -> int:
        """Side of every view in pixels."""
        return self._crop_px

    @property
    def output_channels(self) -> int:
        """Channels of the network input: the survey's bands, or 3 (z, r, g) for the legacy ToRGB."""
        return 3 if self.config.input_stretch == "legacy_torgb" else self.survey.n_bands

    @property
    def asinh_scale_nmgy(self) -> tuple[float, ...]:
        """Softening scale per band of the asinh input stretch (nmgy)."""
        return self._asinh_scale_nmgy

    # --- views ---------------------------------------------------------------------------------
    def __call__(
        self, images: Tensor, ebv: Tensor | None, psfsize: Tensor | None, psfdepth: Tensor | None,
        generator: torch.Generator,
    ) -> Tensor:
        """Stretched views (B, output_channels, crop, crop) of images (B, C, H, W) in nmgy."""
        return self.stretch(self.views_nmgy(images, ebv, psfsize, psfdepth, generator))

    def views_nmgy(
        self, images: Tensor, ebv: Tensor | None, psfsize: Tensor | None, psfdepth: Tensor | None,
        generator: torch.Generator,
    ) -> Tensor:
        """The augmented views in nmgy (B, C, crop, crop), before the input stretch."""
        draws = draw_views(self.config, self.survey, images.shape[0], generator, ebv, psfsize, psfdepth)
        return self.apply(images, draws, generator)

    def apply(self, images: Tensor, draws: ViewDraws, generator: torch.Generator) -> Tensor:
        """Render views from given parameters (nmgy in, nmgy out); ``generator`` draws the noise."""
        x = self._check(images)
        d = draws.to(x.device)
        cfg, n = self.config, self._crop_px
        scale = d.scale if cfg.has("ss") else torch.ones_like(d.scale)
        sigma_aug_px = None
        margin = 0
        if cfg.has("gb"):
            # the size scale widened the image's own PSF to s·σ_true (the legacy mode ignores this)
            widened = scale[:, None] if cfg.size_scale_mode == "isotropic" else 1.0
            sigma_aug_px = blur_sigma_px(d.psf_true_px * widened, d.psf_final_px)
            margin = kernel_radius_px(float(sigma_aug_px.max()) if sigma_aug_px.numel() else 0.0)
        x = self._resample(x, d, scale, n + 2 * margin)
        kept_noise = torch.ones_like(d.noise_true_nmgy)
        gain = None
        if cfg.has("gr"):
            gain = reddening_factor(d.ebv_old_mag, d.ebv_new_mag, self._extinction_r.to(x.device))
            kept_noise = kept_noise * gain
        if sigma_aug_px is not None:
            kernels = gaussian_kernels_1d(sigma_aug_px, margin)
            kept_noise = kept_noise * noise_retention(kernels)
            # the reddening gain rides on the x kernel: one less pass over the pixels
            x_kernels = kernels if gain is None else kernels * gain[..., None]
            x = separable_blur(x, x_kernels, padding="valid", kernels_y=kernels)
        elif gain is not None:
            x = x * gain[:, :, None, None].to(x.dtype)
        if cfg.has("gn"):
            noise_true = d.noise_true_nmgy * (kept_noise if cfg.track_noise_true else 1.0)
            x = add_noise_differential(x, noise_true, d.noise_final_nmgy, generator)
        return x

    def _resample(self, x: Tensor, d: ViewDraws, scale: Tensor, out_px: int) -> Tensor:
        """The fused flip/rotation/scale/jitter/crop; a plain slice when no op moves a pixel."""
        cfg = self.config
        rotate = cfg.has("rr")
        if not (rotate or cfg.has("ss") or cfg.has("jc")) and out_px <= min(x.shape[-2:]):
            return centre_crop(x, out_px)
        return affine_views(
            x, d.flip_x & rotate, d.flip_y & rotate,
            d.angle_rad if rotate else torch.zeros_like(d.angle_rad),
            scale, d.shift_px, out_px=out_px,
            mode=cfg.size_scale_mode if cfg.has("ss") else "isotropic", padding=cfg.padding,
        )

    def center_view(self, images: Tensor) -> Tensor:
        """The evaluation view: the centre crop of each stamp, with the same input stretch."""
        return self.stretch(self.center_nmgy(images))

    def center_nmgy(self, images: Tensor) -> Tensor:
        """The centre crop in nmgy (B, C, crop, crop) — the unaugmented counterpart of :meth:`views_nmgy`."""
        return centre_crop(self._check(images), self._crop_px)

    def stretch(self, views_nmgy: Tensor) -> Tensor:
        """The configured network-input transform of views in nmgy."""
        if self.config.input_stretch == "asinh":
            return asinh_stretch(views_nmgy, self._asinh_scale_nmgy)
        if self.config.input_stretch == "legacy_torgb":
            return legacy_torgb(views_nmgy)
        return views_nmgy

    def _check(self, images: Tensor) -> Tensor:
        if images.ndim != 4 or images.shape[1] != self.survey.n_bands:
            raise SpecError(f"{self.survey.name} views need images (B, {self.survey.n_bands}, H, W), "
                            f"not {tuple(images.shape)}")
        if min(images.shape[-2:]) < self._crop_px:
            raise SpecError(f"{self._crop_px} px views do not fit {tuple(images.shape[-2:])} px stamps")
        return images if images.dtype in (torch.float32, torch.float64) else images.float()
