"""Look at a simulated store: which rows belong to which truth class, and how real its lenses look.

Used by `skyssl demo` for the report and by `skyssl sheets` for the contact sheets in `docs/`.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np
from astropy.table import Table

from skyssl.errors import SkysslError
from skyssl.sim.classes import ARTEFACTS, MORPH_CLASSES
from skyssl.store import Store

LENS_GRADES = ("A", "B", "undetectable")
TRUTH_REQUIRED = ("morph_class", "artefact", "is_lens", "lens_grade")


def class_rows(store: Store, per_class: int = 10) -> dict[str, np.ndarray]:
    """Up to `per_class` rows of each lens grade, morphology class and artefact, in row order."""
    missing = [c for c in TRUTH_REQUIRED if c not in store.columns]
    if missing:
        raise SkysslError(f"{store.path}: not a simulated store (no truth column {missing[0]!r})")
    morph = store.read_column("morph_class")
    artefact = store.read_column("artefact")
    is_lens = store.read_column("is_lens").astype(bool)
    grade = store.read_column("lens_grade")
    clean = (artefact == "") & ~is_lens
    selections = {f"lens grade {g}": is_lens & (grade == g) for g in LENS_GRADES}
    selections.update({name.replace("_", " "): clean & (morph == name) for name in MORPH_CLASSES})
    selections.update({f"artefact: {name.replace('_', ' ')}": artefact == name for name in ARTEFACTS if name})
    return {name: np.flatnonzero(mask)[:per_class] for name, mask in selections.items()}


@dataclass(frozen=True)
class Quantity:
    name: str
    unit: str


COMPARED = (Quantity("mag_z", "mag"), Quantity("g-r", "mag"), Quantity("r-z", "mag"),
            Quantity("z_phot_mean", ""))


def real_dr9_lenses() -> Table:
    """The 1,615 real DR9 training lenses of Stein et al. (2022), shipped as package data."""
    with resources.files("skyssl.sim.data").joinpath("dr9_training_lenses.tsv").open() as handle:
        return Table.read(handle.read(), format="ascii.tab")


def _quantities_real(table: Table) -> dict[str, np.ndarray]:
    g, r, z = (np.asarray(table[f"mag_{b}"], float) for b in "grz")
    return {"mag_z": z, "g-r": g - r, "r-z": r - z, "z_phot_mean": np.asarray(table["z_phot_mean"], float),
            "type": np.asarray(table["source_type"]).astype(str)}


def _quantities_sim(store: Store, rows: np.ndarray) -> dict[str, np.ndarray]:
    mag = store.read_column("mag", rows)
    g, r, z = (mag[:, store.bands.index(b)] for b in "grz")
    return {"mag_z": z, "g-r": g - r, "r-z": r - z, "z_phot_mean": store.read_column("z_phot_mean", rows),
            "type": store.read_column("type", rows)}


def lens_host_comparison(store: Store, grades: tuple[str, ...] = ("A", "B")) -> list[dict]:
    """Quantiles (5/25/50/75/95 %) of simulated lens hosts next to the real DR9 lenses, and type fractions."""
    if store.bands != ("g", "r", "z"):
        raise SkysslError("the lens-host comparison needs a g, r, z (Legacy Surveys) store")
    is_lens = store.read_column("is_lens").astype(bool)
    grade = store.read_column("lens_grade")
    rows = np.flatnonzero(is_lens & np.isin(grade, grades))
    if rows.size == 0:
        rows = np.flatnonzero(is_lens)
    sim, real = _quantities_sim(store, rows), _quantities_real(real_dr9_lenses())
    out = []
    for q in COMPARED:
        for label, values in (("simulated", sim[q.name]), ("real DR9", real[q.name])):
            finite = values[np.isfinite(values)]
            pct = np.percentile(finite, [5, 25, 50, 75, 95]) if finite.size else [np.nan] * 5
            out.append({"quantity": q.name, "sample": label, "n": int(finite.size),
                        **{f"p{p}": float(v) for p, v in zip((5, 25, 50, 75, 95), pct, strict=True)}})
    for label, types in (("simulated", sim["type"]), ("real DR9", real["type"])):
        out.append({"quantity": "type fractions", "sample": label, "n": int(types.size),
                    **{t: float(np.mean(types == t)) if types.size else np.nan for t in ("SER", "DEV", "REX", "EXP")}})
    return out
