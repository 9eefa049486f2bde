"""Compiled inner loops of the all-pairs top-k: scan bf16 score tiles into candidate buffers, re-score exactly.

A tile of approximate scores S̃ (bfloat16 GEMM output, read as int16 bit patterns and compared as
integer keys in the order of bf16 values) is scanned row by row (:func:`approx_rows`) or, for the
symmetric half of a tile pair, column by column (:func:`approx_cols`). Each row appends the (key,
position) of every pair at or above its admission key to a small buffer; when the buffer is full it
is compacted (:func:`compact`): θ̃, the (k − 1)-th largest key so far, gives a lower bound on the
exact (k − 1)-th similarity, T ≥ θ̃ − |θ̃|/255 − slack (the bound of
:mod:`skyssl.search.allpairs_bounds`), and every candidate that cannot reach it — S̃ + |S̃|/255 +
slack < that bound — is dropped, and the admission key rises accordingly. A dropped or never-admitted
pair provably cannot be in the exact top-k; the survivors are re-scored exactly by
:mod:`skyssl.search.allpairs_exact`. A row whose buffer stays over-full (a dense pile of near-equal
scores) is flagged (count −1) and searched by brute force there.

The scan's hot loops compare raw bf16 bit patterns with an int16 floor (for a non-negative admission
key, bits ≥ key exactly when the value is), in forms LLVM vectorises: the row side writes one pass
flag per column (:func:`mark_passing`) and examines only the 8-column words with a flag set; the
column side takes the maximum of each column over a group of 32 rows (:func:`group_max`) and walks
down the group only in the columns that pass. Both read about 0.2 ns per score on one core, five
times less than a per-chunk horizontal maximum did. A row's admission key can also be seeded before
its first tile (:func:`seed_tile_rows`: the k-th best score among likely neighbours, found by a
two-pass radix select, :func:`line_admission`). The functions release the GIL, so the driver runs
the tasks of one tile on separate Python threads (no second OpenMP runtime next to torch's).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

ADMIT_ALL = -(1 << 20)
"""Admission key below every bf16 key: a row with fewer than k − 1 candidates admits everything."""
OVERFLOWED = 1 << 20
"""Admission key above every bf16 key: the row's buffer overflowed, it is searched by brute force."""
FLAG_WORD = 8
"""Columns per prefilter test on the row side: pass flags are read eight bytes at a time."""
GROUP = 32
"""Rows per prefilter test on the column side."""


@nb.njit(cache=True, nogil=True)
def floor_bf16_key(x: float) -> int:
    """Key of the largest bf16 value ≤ x (keys order like the values; see :func:`bf16_key`).

    Exact for normal magnitudes; below 2⁻¹²⁶ a lower floor is returned, which only admits more.
    """
    if x == 0.0:
        return 0
    m, e = math.frexp(abs(x))  # |x| = m · 2^e, m in [0.5, 1)
    biased = e + 126
    if x > 0.0:
        if biased <= 0:  # below the smallest normal bf16: 0 is a (loose) floor
            return 0
        return biased * 128 + math.floor(m * 256.0) - 128
    if biased <= 0:  # below the smallest normal bf16: −2⁻¹²⁶ is a (loose) floor
        return -128
    return -(biased * 128 + math.ceil(m * 256.0) - 128)


@nb.njit(cache=True, nogil=True, inline="always")
def bf16_key(bits: int) -> int:
    """bf16 bit pattern (as int16) → an integer that orders like the value (−0 and +0 both 0)."""
    return bits if bits >= 0 else -(bits & 0x7FFF)


@nb.njit(cache=True, nogil=True)
def threshold_key(worst: float, slack: float, rel: float) -> int:
    """Admission key: S̃ + rel·|S̃| ≥ worst − slack, solved for S̃ and floored to bf16."""
    if worst == -np.inf:
        return ADMIT_ALL
    t = worst - slack
    t = t / (1.0 + rel) if t >= 0.0 else t / (1.0 - rel)
    return floor_bf16_key(t)


@nb.njit(cache=True, nogil=True)
def bf16_value(key: int) -> float:
    """The bf16 value whose key is `key` (inverse of :func:`bf16_key`)."""
    magnitude = abs(key)
    exponent, mantissa = magnitude >> 7, magnitude & 127
    value = mantissa / 128.0 * 2.0**-126 if exponent == 0 else (1.0 + mantissa / 128.0) * 2.0 ** (exponent - 127)
    return value if key >= 0 else -value


@nb.njit(cache=True, nogil=True, inline="always")
def pair_allowed(row_pos: int, col_pos: int, row_mag: float, col_mag: float, window: float) -> bool:
    """Not the object itself, and (with a window ≥ 0) |Δmag| ≤ window, or both magnitudes undefined."""
    if row_pos == col_pos:
        return False
    if window < 0.0:
        return True
    if row_mag != row_mag:
        return col_mag != col_mag
    return abs(row_mag - col_mag) <= window


@nb.njit(cache=True, nogil=True, inline="always")
def raw_floor(admit: int) -> np.int16:
    """An int16 bound for a prefilter on raw bf16 bits: bits ≥ admit ⟺ key ≥ admit when admit ≥ 0
    (negative values have negative bits); for a negative admission key nothing can be skipped."""
    return np.int16(admit) if 0 <= admit < 32768 else (np.int16(32767) if admit >= 32768 else np.int16(-32768))


@nb.njit(cache=True, nogil=True)
def mark_passing(line: np.ndarray, lo: int, hi: int, raw: np.int16, flags: np.ndarray) -> int:
    """flags[t] = line[lo + t] ≥ raw for t < hi − lo, then zeros up to a whole word; returns the words.

    A SIMD compare and store. The hot loops of this module are written so that LLVM vectorises them:
    indices that run from 0 or are unsigned, no reduction over a short run of variable length. A
    signed index numba cannot prove non-negative makes it test every load for a wrap-around index,
    and a max over 32 elements inside the column loop stays scalar; either is four to six times slower.
    """
    width = np.uint64(hi - lo)
    start = np.uint64(lo)
    for t in range(width):
        flags[t] = line[start + t] >= raw
    n_words = (hi - lo + FLAG_WORD - 1) // FLAG_WORD
    for t in range(hi - lo, n_words * FLAG_WORD):
        flags[t] = 0
    return n_words


@nb.njit(cache=True, nogil=True, inline="always")
def group_max(scores: np.ndarray, i0: int, i1: int, c0: int, c1: int, top: np.ndarray) -> None:
    """top[j] = max over rows [i0, i1) of scores[i, j], for j in [c0, c1): a vertical SIMD max. The
    indices are unsigned so that numba adds no wrap-around test to each load (see :func:`mark_passing`)."""
    start, stop = np.uint64(c0), np.uint64(c1)
    for j in range(start, stop):
        top[j] = -32768
    for i in range(i0, i1):
        line = scores[i]
        for j in range(start, stop):
            top[j] = max(top[j], line[j])


@nb.njit(cache=True, nogil=True)
def select_in_place(values: np.ndarray, nth: int) -> int:
    """Quickselect: reorder `values` so that values[nth] is the nth smallest, smaller ones before it,
    larger ones after; returns it. No allocation (the compaction runs once per ~3k appends per row)."""
    lo, hi = 0, values.shape[0] - 1
    while lo < hi:
        mid = (lo + hi) // 2
        a, b, c = values[lo], values[mid], values[hi]
        pivot = max(min(a, b), min(max(a, b), c))
        i, j = lo, hi
        while i <= j:
            while values[i] < pivot:
                i += 1
            while values[j] > pivot:
                j -= 1
            if i <= j:
                values[i], values[j] = values[j], values[i]
                i += 1
                j -= 1
        if nth <= j:
            hi = j
        elif nth >= i:
            lo = i
        else:
            break
    return values[nth]


@nb.njit(cache=True, nogil=True)
def theta_admission(theta_key: int, slack: float, rel: float) -> int:
    """Lowest key that can still hold an exact top-`keep` pair when θ̃ (key `theta_key`) is the `keep`-th
    largest key of some `keep` real pairs of the row.

    Those pairs have exact similarity ≥ θ̃ − rel·|θ̃| − slack, so the exact `keep`-th similarity T is
    at least that, and a pair with S̃ + rel·|S̃| + slack < T cannot count.
    """
    theta = bf16_value(theta_key)
    return threshold_key(theta - rel * abs(theta), slack, rel)


@nb.njit(cache=True, nogil=True)
def admission_key(keys: np.ndarray, count: int, keep: int, slack: float, rel: float) -> int:
    """:func:`theta_admission` of the `keep`-th largest of keys[:count] (selected on a copy: `keys`
    keeps its order), or ADMIT_ALL while there are fewer than `keep`."""
    if count < keep:
        return ADMIT_ALL
    return theta_admission(select_in_place(keys[:count].copy(), count - keep), slack, rel)


@nb.njit(cache=True, nogil=True)
def compact(keys: np.ndarray, ids: np.ndarray, keep: int, slack: float, rel: float, floor: int) -> tuple[int, int]:
    """Drop the candidates of a full buffer that can no longer count. Returns (admission key, count left).

    `floor` is the row's admission key so far, itself a proven bound (a seed from pairs the buffer
    may not have met yet), so the key never falls below it. If too many remain (more than 3/4 of the
    buffer lie within the error margin of the `keep`-th score), the row is marked overflowed
    (count −1) and is searched by brute force at the end.
    """
    cap = keys.shape[0]
    admit = max(admission_key(keys, cap, keep, slack, rel), floor)
    count = 0
    for t in range(cap):
        if keys[t] >= admit:
            keys[count] = keys[t]
            ids[count] = ids[t]
            count += 1
    if 4 * count > 3 * cap:
        return OVERFLOWED, -1
    return admit, count


@nb.njit(cache=True, nogil=True)
def radix_histogram(values: np.ndarray, shift: int, prefix_shift: int, prefix: int) -> np.ndarray:
    """Counts of byte (v >> shift) & 255 over the values v whose (v >> prefix_shift) equals `prefix`
    (all of them for prefix −1). Four interleaved histograms keep equal bytes in a row (the
    top scores of a row crowd into a few buckets) from waiting on each other's increment."""
    parts = np.zeros((4, 256), np.int64)
    for j in range(values.shape[0]):
        v = values[j]
        if prefix < 0 or (v >> prefix_shift) == prefix:
            parts[j & 3, (v >> shift) & 255] += 1
    return parts[0] + parts[1] + parts[2] + parts[3]


@nb.njit(cache=True, nogil=True)
def radix_kth_largest(values: np.ndarray, nth: int) -> int:
    """The `nth` largest (1-based, nth ≤ len) of 16-bit unsigned values: a two-pass radix select (high
    byte, then low byte within the one bucket that holds the answer), a few µs per 4,096 values and
    several times faster than a quickselect on a copy."""
    hist = radix_histogram(values, 8, 0, -1)
    high = 255
    while hist[high] < nth:
        nth -= hist[high]
        high -= 1
    hist = radix_histogram(values, 0, 8, high)
    low = 255
    while hist[low] < nth:
        nth -= hist[low]
        low -= 1
    return high * 256 + low


@nb.njit(cache=True, nogil=True)
def line_admission(line: np.ndarray, pos: int, col_pos: np.ndarray, mag: float, col_mag: np.ndarray, window: float,
                   seed: np.ndarray, keep: int, slack: float, rel: float) -> int:
    """Admission key of one row from one tile row alone: the `keep`-th largest allowed key of `line`.

    Any subset of a row's pairs bounds its exact top-`keep` from below, so this is a valid key
    whatever the tile; `seed` is scratch of at least len(line). Keys are shifted to 16-bit unsigned
    values for :func:`radix_kth_largest`; a pair that is not allowed gets 0, below every real key.
    """
    n = line.shape[0]
    for j in range(n):
        seed[j] = bf16_key(line[j]) + 32768
    allowed = n
    for j in range(n):
        if not pair_allowed(pos, col_pos[j], mag, col_mag[j], window):
            seed[j] = 0
            allowed -= 1
    if allowed < keep:
        return ADMIT_ALL
    return theta_admission(radix_kth_largest(seed[:n], keep) - 32768, slack, rel)


@nb.njit(cache=True, nogil=True)
def seed_tile_rows(scores: np.ndarray, row_start: int, row_stop: int, row_pos: np.ndarray, col_pos: np.ndarray,
                    row_mag: np.ndarray, col_mag: np.ndarray, window: float, admits: np.ndarray, keep: int,
                    slack: float, rel: float) -> None:
    """Raise the admission keys of rows [row_start, row_stop) of a tile to what the tile alone proves."""
    seed = np.empty(scores.shape[1], np.int64)
    for i in range(row_start, row_stop):
        admit = line_admission(scores[i], row_pos[i], col_pos, row_mag[i], col_mag, window, seed, keep, slack, rel)
        admits[i] = max(admits[i], admit)


@nb.njit(cache=True, nogil=True, inline="always")
def admit_span(line: np.ndarray, c0: int, c1: int, pos: int, col_pos: np.ndarray, mag: float, col_mag: np.ndarray,
               window: float, row_keys: np.ndarray, row_ids: np.ndarray, admit: int, count: int, keep: int,
               slack: float, rel: float) -> tuple[int, int]:
    """Append the admissible pairs of line[c0:c1] to one row's buffer; returns (admission key, count).

    The raw bits are compared first (one int16 compare, see :func:`raw_floor`), the key only for those
    that pass."""
    raw = raw_floor(admit)
    for j in range(c0, c1):
        if line[j] < raw:
            continue
        key = bf16_key(line[j])
        if key >= admit and pair_allowed(pos, col_pos[j], mag, col_mag[j], window):
            row_keys[count] = key
            row_ids[count] = col_pos[j]
            count += 1
            if count == row_keys.shape[0]:
                admit, count = compact(row_keys, row_ids, keep, slack, rel, admit)
                if count < 0:
                    break
                raw = raw_floor(admit)
    return admit, count


@nb.njit(cache=True, nogil=True)
def approx_rows(scores: np.ndarray, row_start: int, row_stop: int, row_pos: np.ndarray, col_pos: np.ndarray,
                row_mag: np.ndarray, col_mag: np.ndarray, window: float, keys: np.ndarray, ids: np.ndarray,
                counts: np.ndarray, admits: np.ndarray, keep: int, slack: float, rel: float, col_lo: np.ndarray,
                col_hi: np.ndarray) -> None:
    """Row side of a tile: each row i of [row_start, row_stop) appends (key, position) of admissible pairs
    among columns [col_lo[i], col_hi[i]) (the columns that can be allowed at all: its magnitude window
    in a magnitude-sorted tile, or every column).

    Appending is two stores; a full buffer is compacted, which raises the row's admission key. A
    row that has seen nothing yet is seeded from this tile first: its admission key is set from the
    `keep`-th largest allowed key of the whole tile row (one selection), so that the scan appends only
    the few pairs that can count instead of streaming every column through the buffer.
    """
    n_cols = scores.shape[1]
    flags = np.zeros(-(-n_cols // FLAG_WORD) * FLAG_WORD, np.uint8)
    words = flags.view(np.uint64)
    seed = np.empty(n_cols, np.int64)
    for i in range(row_start, row_stop):
        line, row_keys, row_ids = scores[i], keys[i], ids[i]
        admit, count = admits[i], counts[i]
        if count == 0 and admit == ADMIT_ALL:
            admit = line_admission(line, row_pos[i], col_pos, row_mag[i], col_mag, window, seed, keep, slack, rel)
        lo, hi = col_lo[i], col_hi[i]
        for w in range(mark_passing(line, lo, hi, raw_floor(admit), flags)):
            if words[w] != 0:
                c0 = lo + w * FLAG_WORD
                admit, count = admit_span(line, c0, min(hi, c0 + FLAG_WORD), row_pos[i], col_pos, row_mag[i], col_mag,
                                          window, row_keys, row_ids, admit, count, keep, slack, rel)
                if count < 0:
                    break
        admits[i], counts[i] = admit, count


@nb.njit(cache=True, nogil=True)
def approx_cols(scores: np.ndarray, col_start: int, col_stop: int, row_pos: np.ndarray, col_pos: np.ndarray,
                row_mag: np.ndarray, col_mag: np.ndarray, window: float, keys: np.ndarray, ids: np.ndarray,
                counts: np.ndarray, admits: np.ndarray, keep: int, slack: float, rel: float) -> None:
    """Column side of a tile: columns [col_start, col_stop) append admissible pairs with the tile's rows.

    The tile is read row by row (its memory order) in groups of GROUP rows: a column-wise maximum
    over the group (one SIMD max per 32 scores, no horizontal reduction) is compared with each
    column's floor, and only the columns it passes are walked down the group, from cache. Each
    column still meets its rows in ascending order, as a plain column walk would.
    """
    cap = keys.shape[1]
    n_rows = scores.shape[0]
    raw = np.empty(col_stop, np.int16)
    top = np.empty(col_stop, np.int16)
    for j in range(col_start, col_stop):
        raw[j] = raw_floor(admits[j])
    for i0 in range(0, n_rows, GROUP):
        i1 = min(i0 + GROUP, n_rows)
        group_max(scores, i0, i1, col_start, col_stop, top)
        for j in range(col_start, col_stop):
            if top[j] < raw[j]:
                continue
            for i in range(i0, i1):
                if scores[i, j] < raw[j]:
                    continue
                key = bf16_key(scores[i, j])
                if key >= admits[j] and pair_allowed(row_pos[i], col_pos[j], row_mag[i], col_mag[j], window):
                    keys[j, counts[j]] = key
                    ids[j, counts[j]] = row_pos[i]
                    counts[j] += 1
                    if counts[j] == cap:
                        admits[j], counts[j] = compact(keys[j], ids[j], keep, slack, rel, admits[j])
                        raw[j] = raw_floor(admits[j])
                        if counts[j] < 0:
                            break
