"""Strong-lens parameters for chosen deflectors: the recipe's simplified sampler (§6.2).

Ingredients follow Collett (2015) / LensPop where the recipe gives them:

- σ_v of the deflector's light from the inverse Hyde & Bernardi (2009) relation
  V = log10 σ = −2.97 − 0.37 M_r − 0.006 M_r², with LensPop's 0.15/2.4 mag scatter in M_r;
- z_s ~ p(z) ∝ z² exp(−(z/0.8)^1.5) on [z_l + 0.3, 3.5] — with u = (z/0.8)^1.5 this is a Gamma(2)
  law in u, so it is drawn exactly by inverting the regularised incomplete gamma function;
- lens q = 1 − Rayleigh(0.378 − 0.000572 σ_v) and source q = 1 − Rayleigh(0.3), both ≥ 0.2
  (drawn from the truncated law, not clipped), or the lens q tied to the light's q when given;
- |γ| ~ U(0, 0.08) at a uniform angle; source unlensed r ~ U(22.5, 25.5), r_half ~ lognormal
  (median 0.28″, σ_ln 0.9) truncated to [0.04, 2]″, n = 1, Im/Scd SED index t ~ U(2, 3), internal
  E(B−V) ~ U(0, 0.2), position uniform in area within 0.9 θ_E of the lens (inside the SIS tangential
  caustic, so nearly all sources are multiply imaged), and 30 % of sources clumpy (2–4 knots).

θ_E and the physical relation θ_E = 4π(σ_v/c)² D_ls/D_s. In the default ``"target"`` mode θ_E is drawn
from the recipe's target for *visible* lenses, lognormal(median 1.45″, σ_ln 0.3) truncated to
[0.9, 3.5]″: the simulated lenses stand in for graded DR9 candidates, which are selected for θ_E ≳ the
seeing. `sigma_v_kms` is then the SIE dispersion that this θ_E, z_l and z_s imply,
σ_v = c √(θ_E D_s/(4π D_ls)), so the truth columns obey the physical relation exactly, and
`sigma_v_light_kms` keeps what the deflector's light predicts. Expect σ_v above σ_light: lensing
selects the most massive deflectors at fixed light (cross-section ∝ σ⁴) and the target θ_E is that of
bright lens hosts. In ``"physical"`` mode θ_E follows from σ_light itself, with z_s drawn from p(z_s)
restricted to where θ_E ≥ 0.8″ (recipe §6.2 step 3) when any z_s ≤ 3.5 allows it; the rest keep an
unrestricted z_s and a θ_E < 0.8″ that the caller may reject.

Distances: flat ΛCDM, H₀ = 70, Ω_m = 0.3 (astropy), where D_ls/D_s = 1 − χ_l/χ_s.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np
from astropy.cosmology import FlatLambdaCDM
from scipy.special import gammainc, gammaincinv, ndtr, ndtri

from skyssl.sim.lens import Clumps, LensParams, SourceParams

C_KMS = 299792.458
ARCSEC_PER_RAD = 180.0 * 3600.0 / np.pi
Z_S_MAX = 3.5
Z_S_MIN_OFFSET = 0.3
THETA_E_MEDIAN_ARCSEC, THETA_E_SIGMA_LN, THETA_E_RANGE_ARCSEC = 1.45, 0.3, (0.9, 3.5)
THETA_E_MIN_PHYS_ARCSEC = 0.8
GAMMA_EXT_MAX = 0.08
SRC_MAG_R_RANGE = (22.5, 25.5)
SRC_RE_MEDIAN_ARCSEC, SRC_RE_SIGMA_LN, SRC_RE_RANGE_ARCSEC = 0.28, 0.9, (0.04, 2.0)
SRC_SED_T_RANGE = (2.0, 3.0)  # Scd (2) to Im (3) on the CWW index of the galaxy population
SRC_EBV_INT_MAX = 0.2
SRC_POSITION_MAX_THETA_E = 0.9
Q_MIN = 0.2
CLUMPY_FRACTION = 0.3
MAX_CLUMPS = 4
HB_SCATTER_MAG = 0.15 / 2.4


@dataclass
class LensPopulation:
    """Struct of arrays: every truth field of N lenses. Source positions are relative to the lens centre.

    Clump arrays are (N, MAX_CLUMPS), padded with NaN positions/sizes and zero flux fraction.
    """

    theta_e_arcsec: np.ndarray
    q_lens: np.ndarray
    phi_lens_rad: np.ndarray
    gamma1: np.ndarray
    gamma2: np.ndarray
    gamma_ext: np.ndarray
    phi_ext_rad: np.ndarray
    z_l: np.ndarray
    z_s: np.ndarray
    sigma_v_kms: np.ndarray
    sigma_v_light_kms: np.ndarray
    src_mag_r: np.ndarray
    src_re_arcsec: np.ndarray
    src_q: np.ndarray
    src_pa_rad: np.ndarray
    src_sersic_n: np.ndarray
    src_x_arcsec: np.ndarray
    src_y_arcsec: np.ndarray
    src_sed_t: np.ndarray
    src_ebv_int: np.ndarray
    src_n_clumps: np.ndarray
    src_clump_dx_arcsec: np.ndarray
    src_clump_dy_arcsec: np.ndarray
    src_clump_sigma_arcsec: np.ndarray
    src_clump_flux_frac: np.ndarray

    def __len__(self) -> int:
        return int(self.theta_e_arcsec.size)

    def columns(self) -> dict[str, np.ndarray]:
        """The truth columns by name, for a catalogue writer."""
        return asdict(self)

    def lens_params(self, i: int, center_x_arcsec: float = 0.0, center_y_arcsec: float = 0.0) -> LensParams:
        """Lens i as renderer input, centred on its deflector (arcsec from the stamp centre)."""
        return LensParams(
            float(self.theta_e_arcsec[i]), float(self.q_lens[i]), float(self.phi_lens_rad[i]),
            float(self.gamma1[i]), float(self.gamma2[i]), center_x_arcsec, center_y_arcsec,
        )

    def source_params(
        self, i: int, flux_nmgy: np.ndarray, center_x_arcsec: float = 0.0, center_y_arcsec: float = 0.0
    ) -> SourceParams:
        """Source i as renderer input; `flux_nmgy` (C,) comes from its magnitude and SED (sed.py)."""
        k = int(self.src_n_clumps[i])
        clumps = None
        if k:
            clumps = Clumps(
                self.src_clump_dx_arcsec[i, :k].copy(), self.src_clump_dy_arcsec[i, :k].copy(),
                self.src_clump_sigma_arcsec[i, :k].copy(), self.src_clump_flux_frac[i, :k].copy(),
            )
        return SourceParams(
            center_x_arcsec + float(self.src_x_arcsec[i]), center_y_arcsec + float(self.src_y_arcsec[i]),
            float(self.src_re_arcsec[i]), float(self.src_q[i]), float(self.src_pa_rad[i]),
            float(self.src_sersic_n[i]), np.asarray(flux_nmgy, dtype=float), clumps,
        )


def sigma_v_from_abs_mag_r(abs_mag_r, rng: np.random.Generator | None = None) -> np.ndarray:
    """Velocity dispersion (km/s) predicted by the deflector's M_r (inverse Hyde & Bernardi).

    With an rng, LensPop's scatter of 0.15/2.4 mag in M_r at fixed σ is applied before inverting.
    """
    m = np.asarray(abs_mag_r, dtype=float)
    if rng is not None:
        m = m + rng.normal(0.0, HB_SCATTER_MAG, m.shape)
    return 10.0 ** (-2.97 - 0.37 * m - 0.006 * m * m)


@lru_cache(maxsize=1)
def _comoving_table() -> tuple[np.ndarray, np.ndarray]:
    z = np.linspace(0.0, Z_S_MAX + 0.1, 3601)
    return z, FlatLambdaCDM(H0=70.0, Om0=0.3).comoving_distance(z).value


def distance_ratio(z_l, z_s) -> np.ndarray:
    """D_ls/D_s for a flat universe, 1 − χ(z_l)/χ(z_s) (exact for flat ΛCDM; tabulated χ)."""
    z, chi = _comoving_table()
    return 1.0 - np.interp(z_l, z, chi) / np.interp(z_s, z, chi)


def theta_e_sis_arcsec(sigma_v_kms, z_l, z_s) -> np.ndarray:
    """Einstein radius θ_E = 4π(σ_v/c)² D_ls/D_s of a singular isothermal deflector, in arcsec."""
    return 4.0 * np.pi * (np.asarray(sigma_v_kms) / C_KMS) ** 2 * distance_ratio(z_l, z_s) * ARCSEC_PER_RAD


def sigma_v_for_theta_e_kms(theta_e_arcsec, z_l, z_s) -> np.ndarray:
    """The dispersion whose SIS Einstein radius is θ_E: the inverse of `theta_e_sis_arcsec`."""
    ratio = distance_ratio(z_l, z_s)
    return C_KMS * np.sqrt(np.asarray(theta_e_arcsec) / (4.0 * np.pi * ratio * ARCSEC_PER_RAD))


def _z_s_cdf(z) -> np.ndarray:
    return gammainc(2.0, (np.asarray(z) / 0.8) ** 1.5)


def draw_z_s(rng: np.random.Generator, z_lo, z_hi=Z_S_MAX) -> np.ndarray:
    """z_s from p(z) ∝ z² exp(−(z/0.8)^1.5) truncated to [z_lo, z_hi], by exact inverse CDF."""
    lo, hi = _z_s_cdf(z_lo), _z_s_cdf(z_hi)
    u = lo + (hi - lo) * rng.random(np.shape(lo))
    return 0.8 * gammaincinv(2.0, u) ** (2.0 / 3.0)


def draw_truncated_lognormal(rng: np.random.Generator, n: int, median, sigma_ln, lo, hi) -> np.ndarray:
    """A lognormal truncated (not clipped) to [lo, hi], by inverse CDF: no pile-up at the bounds."""
    a, b = ndtr((np.log(lo) - np.log(median)) / sigma_ln), ndtr((np.log(hi) - np.log(median)) / sigma_ln)
    return median * np.exp(sigma_ln * ndtri(a + (b - a) * rng.random(n)))


def draw_axis_ratio(rng: np.random.Generator, rayleigh_scale, n: int, q_min: float = Q_MIN) -> np.ndarray:
    """q = 1 − Rayleigh(scale) truncated to q ≥ q_min, by inverse CDF (LensPop's shape prior)."""
    s = np.broadcast_to(np.asarray(rayleigh_scale, dtype=float), (n,))
    f_max = 1.0 - np.exp(-((1.0 - q_min) ** 2) / (2.0 * s * s))
    return 1.0 - s * np.sqrt(-2.0 * np.log1p(-f_max * rng.random(n)))


def _z_s_lower_for_theta_e(theta_min, sigma_v_kms, z_l) -> np.ndarray:
    """Smallest z_s at which the SIS of σ_v reaches θ_min (NaN where no z_s ≤ Z_S_MAX does).

    θ_E grows with z_s through D_ls/D_s = 1 − χ_l/χ_s, so the bound is χ_s = χ_l/(1 − θ_min/θ_∞).
    """
    z, chi = _comoving_table()
    theta_inf = 4.0 * np.pi * (np.asarray(sigma_v_kms) / C_KMS) ** 2 * ARCSEC_PER_RAD
    need = theta_min / theta_inf
    with np.errstate(divide="ignore"):
        chi_s = np.interp(z_l, z, chi) / np.maximum(1.0 - need, 0.0)
    z_s = np.interp(chi_s, chi, z, right=np.inf)
    return np.where(z_s < Z_S_MAX, z_s, np.nan)


def _draw_clumps(rng: np.random.Generator, re_arcsec: np.ndarray):
    """Clump counts and padded (N, MAX_CLUMPS) knot geometry in the source plane."""
    n = re_arcsec.size
    n_clumps = np.where(rng.random(n) < CLUMPY_FRACTION, rng.integers(2, MAX_CLUMPS + 1, n), 0)
    slot = np.arange(MAX_CLUMPS)[None, :] < n_clumps[:, None]
    radius = re_arcsec[:, None] * rng.uniform(0.2, 1.2, (n, MAX_CLUMPS))
    angle = rng.uniform(0.0, 2.0 * np.pi, (n, MAX_CLUMPS))
    sigma = np.maximum(re_arcsec[:, None] * rng.uniform(0.1, 0.3, (n, MAX_CLUMPS)), 0.02)
    weights = np.where(slot, rng.gamma(1.0, 1.0, (n, MAX_CLUMPS)), 0.0)  # a Dirichlet(1, …) split
    total = rng.uniform(0.15, 0.4, n)[:, None]
    frac = total * weights / np.maximum(weights.sum(axis=1, keepdims=True), 1e-300)
    nan = np.full((n, MAX_CLUMPS), np.nan)
    return (
        n_clumps,
        np.where(slot, radius * np.cos(angle), nan),
        np.where(slot, radius * np.sin(angle), nan),
        np.where(slot, sigma, nan),
        np.where(slot, frac, 0.0),
    )


def sample_lens_population(
    rng: np.random.Generator,
    z_l,
    *,
    abs_mag_r=None,
    sigma_v_kms=None,
    q_light=None,
    pa_light_rad=None,
    theta_e_mode: str = "target",
) -> LensPopulation:
    """Draw lens and source parameters for N deflectors at redshifts `z_l` (see the module docstring).

    Give the deflectors' `sigma_v_kms`, or their `abs_mag_r` to infer it. With `q_light` and
    `pa_light_rad` the mass follows the light (q scattered by 0.05, angle by 10°, as lens models find
    mass and light aligned to ~10°); otherwise LensPop's q prior and a uniform angle are used.
    Deterministic given `rng`: every draw is vectorised over N in a fixed order.
    """
    z_l = np.asarray(z_l, dtype=float)
    n = z_l.size
    if np.any(z_l <= 0.0) or np.any(z_l + Z_S_MIN_OFFSET >= Z_S_MAX):
        raise ValueError(f"deflector redshifts must lie in (0, {Z_S_MAX - Z_S_MIN_OFFSET})")
    if theta_e_mode not in ("target", "physical"):
        raise ValueError(f"theta_e_mode must be 'target' or 'physical', got {theta_e_mode!r}")
    if sigma_v_kms is not None:
        sigma_light = np.broadcast_to(np.asarray(sigma_v_kms, dtype=float), (n,)).copy()
    elif abs_mag_r is not None:
        sigma_light = sigma_v_from_abs_mag_r(np.broadcast_to(abs_mag_r, (n,)), rng)
    else:
        raise ValueError("give the deflectors' sigma_v_kms or abs_mag_r")

    z_lo = z_l + Z_S_MIN_OFFSET
    if theta_e_mode == "target":
        z_s = draw_z_s(rng, z_lo)
        theta_e = draw_truncated_lognormal(rng, n, THETA_E_MEDIAN_ARCSEC, THETA_E_SIGMA_LN, *THETA_E_RANGE_ARCSEC)
        sigma_v = sigma_v_for_theta_e_kms(theta_e, z_l, z_s)
    else:
        reach = _z_s_lower_for_theta_e(THETA_E_MIN_PHYS_ARCSEC, sigma_light, z_l)
        z_s = draw_z_s(rng, np.where(np.isfinite(reach), np.maximum(z_lo, reach), z_lo))
        theta_e = theta_e_sis_arcsec(sigma_light, z_l, z_s)
        sigma_v = sigma_light.copy()

    if q_light is not None and pa_light_rad is not None:
        q_lens = np.clip(np.broadcast_to(q_light, (n,)) + rng.normal(0.0, 0.05, n), Q_MIN, 1.0)
        phi_lens = np.mod(np.broadcast_to(pa_light_rad, (n,)) + rng.normal(0.0, np.radians(10.0), n), np.pi)
    else:
        q_lens = draw_axis_ratio(rng, np.maximum(0.378 - 0.000572 * sigma_v, 0.05), n)
        phi_lens = rng.uniform(0.0, np.pi, n)
    gamma_ext = rng.uniform(0.0, GAMMA_EXT_MAX, n)
    phi_ext = rng.uniform(0.0, np.pi, n)

    src_mag_r = rng.uniform(*SRC_MAG_R_RANGE, n)
    src_re = draw_truncated_lognormal(rng, n, SRC_RE_MEDIAN_ARCSEC, SRC_RE_SIGMA_LN, *SRC_RE_RANGE_ARCSEC)
    src_q = draw_axis_ratio(rng, 0.3, n)
    src_pa = rng.uniform(0.0, np.pi, n)
    src_r = SRC_POSITION_MAX_THETA_E * theta_e * np.sqrt(rng.random(n))
    src_angle = rng.uniform(0.0, 2.0 * np.pi, n)
    src_sed_t = rng.uniform(*SRC_SED_T_RANGE, n)
    src_ebv = rng.uniform(0.0, SRC_EBV_INT_MAX, n)
    n_clumps, cdx, cdy, csig, cfrac = _draw_clumps(rng, src_re)

    return LensPopulation(
        theta_e_arcsec=theta_e,
        q_lens=q_lens,
        phi_lens_rad=phi_lens,
        gamma1=gamma_ext * np.cos(2.0 * phi_ext),
        gamma2=gamma_ext * np.sin(2.0 * phi_ext),
        gamma_ext=gamma_ext,
        phi_ext_rad=phi_ext,
        z_l=z_l.copy(),
        z_s=z_s,
        sigma_v_kms=sigma_v,
        sigma_v_light_kms=sigma_light,
        src_mag_r=src_mag_r,
        src_re_arcsec=src_re,
        src_q=src_q,
        src_pa_rad=src_pa,
        src_sersic_n=np.ones(n),
        src_x_arcsec=src_r * np.cos(src_angle),
        src_y_arcsec=src_r * np.sin(src_angle),
        src_sed_t=src_sed_t,
        src_ebv_int=src_ebv,
        src_n_clumps=n_clumps.astype(np.int64),
        src_clump_dx_arcsec=cdx,
        src_clump_dy_arcsec=cdy,
        src_clump_sigma_arcsec=csig,
        src_clump_flux_frac=cfrac,
    )
