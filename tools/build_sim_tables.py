"""Build the small package-data tables that the simulator reads at run time.

    .venv/bin/python tools/build_sim_tables.py [--out src/skyssl/sim/data]

Developers run this once (about 20 s); the outputs are committed, so users never need the
dev-only dependencies GalSim and speclite, and the runtime needs only numpy and scipy.

Outputs (float32, < 1 MB together):

- ``sersic_kspace.npz``: the Fourier transform g_n(κ) (g(0) = 1) of a Sersic profile with half-light
  radius 1, truncated at 8 r_e and normalised to the truncated flux, from GalSim's
  ``Sersic(n, half_light_radius=1, trunc=8, flux_untruncated=False).kValue(2πκ, 0)``, κ in cycles per
  r_e. Rows n = 0.5…6 in steps of 0.125 (the runtime interpolates cubically in n; 0.25 steps left
  4e-4 errors near n = 0.6).
- ``moffat_kspace.npz``: the same for ``Moffat(beta, fwhm=1)``, κ in cycles per FWHM.
- ``sed_mags.npz``: observed-frame magnitude offsets of the CWW templates (see `sed_offset_table`).

Both k-space tables share one abscissa, uniform in v = ln(κ² + κ₀²): κ = 0 falls exactly on the
first node (so g(0) = 1 and fluxes are exact), and the spacing is logarithmic in κ where the
transforms fall off. The runtime computes v directly from κ², with no square root.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import galsim
import numpy as np
import speclite.filters
from scipy.special import gammaincc, gammaincinv, gammaln, kve

KAPPA0 = 0.01  # flat-core width of the v abscissa (cycles per length unit)
KAPPA_MAX = 10**2.5  # beyond this the transforms are taken as zero (r_e > 400 px would be needed)
N_KAPPA = 1024  # nodes; linear interpolation in v then errs < 3e-5 of g(0)
SERSIC_N = np.arange(0.5, 6.0 + 1e-9, 0.125)
MOFFAT_BETA = (2.5, 3.0, 3.5, 4.765)
TRUNC_RE = 8.0

SED_TEMPLATES = ("E", "Sbc", "Scd", "Im")  # SED index t = 0, 1, 2, 3
SED_T = np.linspace(0.0, 3.0, 31)
EBV_INT = np.array([0.0, 0.1, 0.2, 0.3])
Z_GRID = np.round(np.arange(0.0, 3.5 + 1e-9, 0.025), 6)
CALZETTI_RV = 4.05
SYSTEMS = {
    "decam": ("decam2014-g", "decam2014-r", "decam2014-z"),
    "bass-mzls": ("BASS-g", "BASS-r", "MzLS-z"),
    "sdss": ("sdss2010-u", "sdss2010-g", "sdss2010-r", "sdss2010-i", "sdss2010-z"),
}
R_BAND = {"decam": "decam2014-r", "bass-mzls": "BASS-r", "sdss": "sdss2010-r"}
NORM_FILTER = "decam2014-r"  # templates get equal rest-frame flux here before mixing in t


def kappa_nodes() -> tuple[np.ndarray, float, float]:
    """κ at the table nodes, and the (v_min, dv) of the uniform v = ln(κ² + κ₀²) abscissa."""
    v = np.linspace(np.log(KAPPA0**2), np.log(KAPPA_MAX**2 + KAPPA0**2), N_KAPPA)
    kappa = np.sqrt(np.maximum(np.exp(v) - KAPPA0**2, 0.0))
    kappa[0] = 0.0
    return kappa, float(v[0]), float(v[1] - v[0])


def _radial_kvalues(profile: galsim.GSObject, kappa: np.ndarray) -> np.ndarray:
    """g(κ) = kValue at angular wavenumber 2πκ, for a profile of unit flux."""
    return np.array([profile.kValue(2.0 * np.pi * k, 0.0).real for k in kappa])


def sersic_row(n: float, kappa: np.ndarray) -> tuple[np.ndarray, float, float]:
    """g_n(κ) from GalSim at the tightest accuracy its integrator reaches for this n.

    GalSim's default kvalue_accuracy (1e-5) leaves errors up to 2e-4 near κ ≈ 0.02, so 1e-7 is tried
    first. For n < 0.75 GalSim cannot solve for the truncated half-light radius (its root bracket
    underflows); there the truncation removes < 1e-8 of the light, so the untruncated profile is used.
    Returns the row, the accuracy used and the truncation radius used (0 = none).
    """
    for trunc in (TRUNC_RE, 0.0):
        for accuracy in (1e-7, 1e-6, 1e-5):
            gsparams = galsim.GSParams(kvalue_accuracy=accuracy, xvalue_accuracy=accuracy)
            try:
                profile = galsim.Sersic(n, half_light_radius=1.0, trunc=trunc, flux_untruncated=False,
                                        gsparams=gsparams)
                row = _radial_kvalues(profile, kappa)
            except (galsim.GalSimError, RuntimeError):
                continue
            if trunc == 0.0:
                lost = gammaincc(2 * n, gammaincinv(2 * n, 0.5) * TRUNC_RE ** (1 / n))
                assert lost < 1e-8, f"n={n}: untruncated fallback would keep {lost:.1e} beyond {TRUNC_RE} r_e"
            return row, accuracy, trunc
    raise RuntimeError(f"GalSim could not tabulate the Sersic transform for n={n}")


def sersic_table() -> dict[str, np.ndarray]:
    kappa, v_min, dv = kappa_nodes()
    rows, accuracy, trunc = zip(*(sersic_row(float(n), kappa) for n in SERSIC_N), strict=True)
    table = np.array(rows)
    table[:, 0] = 1.0
    return {"n": SERSIC_N.astype(np.float32), "g": table.astype(np.float32), "kappa0": np.float64(KAPPA0),
            "v_min": np.float64(v_min), "dv": np.float64(dv),
            "kvalue_accuracy": np.array(accuracy), "trunc_re": np.array(trunc)}


def moffat_analytic(beta: float, kappa: np.ndarray) -> np.ndarray:
    """Hankel transform of an untruncated Moffat of unit FWHM: 2 (x/2)^ν K_ν(x)/Γ(ν), ν = β − 1."""
    alpha = 1.0 / (2.0 * np.sqrt(2.0 ** (1.0 / beta) - 1.0))
    nu = beta - 1.0
    x = np.where(kappa > 0, 2.0 * np.pi * kappa * alpha, 1.0)
    g = 2.0 * np.exp(nu * np.log(x / 2.0) - gammaln(nu) - x) * kve(nu, x)
    return np.where(kappa > 0, g, 1.0)


def moffat_table() -> dict[str, np.ndarray]:
    """GalSim Moffat transforms, cross-checked against the closed form (a guard on the κ convention)."""
    kappa, v_min, dv = kappa_nodes()
    rows = []
    for beta in MOFFAT_BETA:
        row = _radial_kvalues(galsim.Moffat(beta, fwhm=1.0), kappa)
        err = np.abs(row - moffat_analytic(beta, kappa)).max()
        assert err < 1e-5, f"Moffat beta={beta}: GalSim and the Bessel form differ by {err:.1e}"
        rows.append(row)
    table = np.array(rows)
    table[:, 0] = 1.0
    return {"beta": np.array(MOFFAT_BETA, np.float32), "g": table.astype(np.float32),
            "kappa0": np.float64(KAPPA0), "v_min": np.float64(v_min), "dv": np.float64(dv)}


def calzetti_k(wavelength_aa: np.ndarray, r_v: float = CALZETTI_RV) -> np.ndarray:
    """Calzetti et al. (2000) k(λ) = A_λ/E_s(B−V), extended linearly in 1/λ outside 0.12–2.2 µm.

    The published polynomials are only defined on 0.12–2.2 µm; beyond, the curve is continued along
    its end slopes in 1/λ (and floored at 0), a common and harmless choice here because the IGM
    absorbs most of the rest-frame far-UV that reaches the optical bands.
    """
    lam_um = np.asarray(wavelength_aa, dtype=np.float64) / 1e4

    def blue(x):
        return 2.659 * (-2.156 + 1.509 * x - 0.198 * x**2 + 0.011 * x**3) + r_v

    def red(x):
        return 2.659 * (-1.857 + 1.040 * x) + r_v

    x = 1.0 / lam_um
    k = np.where(lam_um < 0.63, blue(x), red(x))
    x_uv, x_ir, h = 1 / 0.12, 1 / 2.2, 1e-4
    k = np.where(lam_um < 0.12, blue(x_uv) + (blue(x_uv) - blue(x_uv - h)) / h * (x - x_uv), k)
    k = np.where(lam_um > 2.2, red(x_ir) + 2.659 * 1.040 * (x - x_ir), k)
    return np.maximum(k, 0.0)


def madau_igm_transmission(wavelength_obs_aa: np.ndarray, z: float) -> np.ndarray:
    """Mean IGM transmission exp(−τ) towards a source at z (Madau 1995, eqs. 12–16).

    Lyman-series line blanketing (Lyα–Lyδ) plus the photoelectric approximation below the Lyman
    limit. Matters for sources of lenses at z ≳ 2, whose Lyα forest falls in u and g.
    """
    lam = np.asarray(wavelength_obs_aa, dtype=np.float64)
    tau = np.zeros_like(lam)
    for lam_j, a_j in ((1215.67, 3.6e-3), (1025.72, 1.7e-3), (972.54, 1.2e-3), (949.74, 9.3e-4)):
        inside = (lam >= lam_j) & (lam <= lam_j * (1 + z))
        tau += np.where(inside, a_j * (lam / lam_j) ** 3.46, 0.0)
    x_em = 1.0 + z
    x_c = np.clip(lam / 911.75, 1.0, x_em)
    tau_c = (0.25 * x_c**3 * (x_em**0.46 - x_c**0.46) + 9.4 * x_c**1.5 * (x_em**0.18 - x_c**0.18)
             - 0.7 * x_c**3 * (x_c**-1.32 - x_em**-1.32) - 0.023 * (x_em**1.68 - x_c**1.68))
    tau += np.where(lam < 911.75 * x_em, np.maximum(tau_c, 0.0), 0.0)
    return np.exp(-tau)


def load_cww_templates() -> tuple[np.ndarray, np.ndarray]:
    """The four CWW `_ext` templates (f_λ) on a common rest wavelength grid (Å), each scaled to unit
    rest-frame AB maggies in `NORM_FILTER`, so that mixing in t is a mixing of equal-r-flux SEDs."""
    share = Path(galsim.meta_data.share_dir) / "SEDs"
    data = [np.loadtxt(share / f"CWW_{name}_ext.sed") for name in SED_TEMPLATES]
    wave = np.unique(np.concatenate([d[:, 0] for d in data]))
    wave = wave[(wave >= max(d[0, 0] for d in data)) & (wave <= min(d[-1, 0] for d in data))]
    flux = np.array([np.interp(wave, d[:, 0], d[:, 1]) for d in data])
    norm = speclite.filters.load_filter(NORM_FILTER).get_ab_maggies(flux, wave)
    return wave, flux / np.asarray(norm)[:, None]


def mixed_seds(templates: np.ndarray) -> np.ndarray:
    """SEDs (n_t, n_wave) linearly interpolated between adjacent templates at each t in `SED_T`."""
    i = np.minimum(np.floor(SED_T).astype(int), len(SED_TEMPLATES) - 2)
    w = (SED_T - i)[:, None]
    return (1 - w) * templates[i] + w * templates[i + 1]


def ab_mag(filt: speclite.filters.FilterResponse, flux: np.ndarray, wave: np.ndarray) -> np.ndarray:
    maggies = np.asarray(filt.get_ab_maggies(flux, wave))
    return -2.5 * np.log10(np.maximum(maggies, 1e-300))


def sed_offset_table(system: str, wave: np.ndarray, seds: np.ndarray) -> np.ndarray:
    """offset_b(z, t, E_int) = m_b − M_r − DM(z), shape (n_z, n_t, n_E, n_bands).

    m_b is the observed AB magnitude of the dust-reddened, redshifted, IGM-attenuated SED; M_r is the
    rest-frame absolute magnitude of the same dust-reddened SED in this system's r band. The choice
    matches luminosity functions measured on real (dusty) galaxies: E_int reddens the colours and
    the K-corrections but does not dim the galaxy at fixed M_r. With f_obs(λ) = f(λ/(1+z))/(1+z),
    m_b − DM = AB_b[f_obs] exactly, so offset_b = AB_b[f_obs] − AB_r[f] in any flux normalisation.
    """
    filters = [speclite.filters.load_filter(name) for name in SYSTEMS[system]]
    r_filter = speclite.filters.load_filter(R_BAND[system])
    reddened = seds[:, None, :] * 10 ** (-0.4 * calzetti_k(wave)[None, None, :] * EBV_INT[None, :, None])
    flat = reddened.reshape(-1, wave.size)
    m_r_rest = ab_mag(r_filter, flat, wave)
    out = np.empty((Z_GRID.size, flat.shape[0], len(filters)))
    for iz, z in enumerate(Z_GRID):
        wave_obs = wave * (1 + z)
        flux_obs = flat / (1 + z) * madau_igm_transmission(wave_obs, z)[None, :]
        for ib, filt in enumerate(filters):
            out[iz, :, ib] = ab_mag(filt, flux_obs, wave_obs) - m_r_rest
    return out.reshape(Z_GRID.size, SED_T.size, EBV_INT.size, len(filters))


def sed_table() -> dict[str, np.ndarray]:
    wave, templates = load_cww_templates()
    seds = mixed_seds(templates)
    out: dict[str, np.ndarray] = {"z": Z_GRID.astype(np.float32), "sed_t": SED_T.astype(np.float32),
                                  "ebv_int": EBV_INT.astype(np.float32),
                                  "templates": np.array(SED_TEMPLATES)}
    for system, names in SYSTEMS.items():
        out[f"offset_{system}"] = sed_offset_table(system, wave, seds).astype(np.float32)
        out[f"filters_{system}"] = np.array(names)
        out[f"bands_{system}"] = np.array([name[-1] for name in names])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parents[1] / "src/skyssl/sim/data")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, build in (("moffat_kspace", moffat_table), ("sed_mags", sed_table),
                        ("sersic_kspace", sersic_table)):
        path = args.out / f"{name}.npz"
        np.savez_compressed(path, **build())
        print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
