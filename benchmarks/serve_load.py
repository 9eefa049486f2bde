"""Web service under load: `skyssl serve` on loopback, N concurrent clients, a mix of real requests.

The index: 10⁵ synthetic objects (positions uniform on the sphere, magnitudes, photo-z), 128-d
clustered vectors as float16 embeddings, a flat (exact) Faiss index or, with `--kind`, HNSW or IVF-PQ
tuned as `skyssl index` tunes them — built once under `--work` and reused. Stamps are small (`--stamp-px`, default 32 px float16, so the store is 0.6 GB rather than the
28 GB of 152 px float32 stamps); the in-process baseline below also times thumbnails of 152 px stamps.

The server is the real CLI (`skyssl serve --index … --port 0`) in its own process. The clients are
`--clients` asyncio tasks in this process (each a keep-alive HTTP/1.1 connection), each sending its next request as soon as the last
one is answered, for `--seconds` after a `--warmup`. The mix (weights in `--mix`): search by id (k = 24),
search by coordinates (a random object's RA/Dec in degrees), thumbnails of random objects (128 px; with
10⁵ objects nearly every one is a cache miss, so each is read and rendered) and label posts (committed
with fsync before the reply). Reported per kind and overall: count, throughput, p50/p99/max latency and
errors (any non-2xx or transport failure).

Side by side, in the same run and process, single requests without the service:

- coordinate lookup: the authors' app scans every RA/Dec with numpy per query (O(N); bug 21), ours is
  the KD-tree of :class:`skyssl.search.coords.SkyLookup` — per-query time at N = 10⁵ and the scan
  extrapolated linearly to the authors' 42 M;
- a bare search of one 128-d query, k = 24, in the same Faiss index (the floor under a search request),
  with one OpenMP thread (as the server runs) and with Faiss' default;
- rendering one thumbnail (display RGB + resize + PNG) from a `--stamp-px` and from a 152 px stamp;
- one label insert into the SQLite database (WAL, synchronous=FULL).

Prints one JSON document (summary lines on stderr).

    python benchmarks/serve_load.py                          # defaults as in BENCHMARKS.md
    python benchmarks/serve_load.py --clients 8 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import faiss
import httpx
import numpy as np

from skyssl import surveys
from skyssl.hostinfo import machine_facts
from skyssl.manifest import has_manifest

SURVEY = "legacy-dr9-south"
DIM = 128
ROWS_PER_SHARD = 25_000
DEFAULT_MIX = "id=4,coords=2,thumbnail=3,label=1"


def machine() -> dict:
    return machine_facts(faiss=faiss.__version__, httpx=httpx.__version__)


# --- the index --------------------------------------------------------------------------------------------
def build_store(path: Path, n: int, stamp_px: int, seed: int) -> Path:
    """n objects: uniform sky, mags 16–22, photo-z; each stamp a small Gaussian galaxy on noise (float16)."""
    from skyssl.store import StoreWriter

    rng = np.random.default_rng(seed)
    writer = StoreWriter(path, surveys.get(SURVEY), n, rows_per_shard=ROWS_PER_SHARD, image_dtype="float16",
                         stamp_size_px=stamp_px, overwrite=True)
    yy, xx = np.mgrid[:stamp_px, :stamp_px] - (stamp_px - 1) / 2
    for k in range(writer.n_shards):
        a, b = writer.shard_rows(k)
        m = b - a
        sigma = rng.uniform(1.0, stamp_px / 6, (m, 1, 1, 1))
        amplitude = rng.uniform(0.05, 2.0, (m, 3, 1, 1))
        images = (amplitude * np.exp(-(xx**2 + yy**2) / (2 * sigma**2))
                  + rng.normal(0.0, 0.01, (m, 3, stamp_px, stamp_px))).astype(np.float32)
        mag = rng.uniform(16.0, 22.0, (m, 3))
        columns = {"object_id": np.arange(a, b, dtype=np.int64) * 3 + 10_000,
                   "ra": rng.uniform(0.0, 360.0, m), "dec": np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, m))),
                   "mag": mag, "flux": 10 ** (-0.4 * (mag - 22.5)), "z_phot_mean": rng.uniform(0.0, 1.2, m),
                   "type": np.array(["REX", "EXP", "DEV", "SER"])[rng.integers(0, 4, m)]}
        writer.write_shard(k, images, columns)
    return writer.finish(checksums=False)


def clustered_vectors(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((500, DIM)).astype(np.float32)
    return centres[rng.integers(0, 500, n)] + 0.7 * rng.standard_normal((n, DIM)).astype(np.float32)


def build_index_folder(work: Path, n: int, stamp_px: int, seed: int, kind: str) -> Path:
    """STORE, EMB and INDEX under `work` (each reused when a previous run built it with the same settings)."""
    from skyssl.embed import write_embeddings
    from skyssl.search.build import build_index
    from skyssl.store import Store

    tag = f"n{n}-px{stamp_px}-s{seed}"
    store, emb, index = work / f"store-{tag}", work / f"emb-{tag}", work / f"index-{tag}-{kind}"
    started = time.perf_counter()
    if not has_manifest(emb):
        build_store(store, n, stamp_px, seed)
        with Store.open(store) as opened:
            ids = opened.object_ids
        write_embeddings(emb, ids, np.arange(n), {"backbone": clustered_vectors(n, seed + 1)}, store,
                         checkpoint_info={"path": None, "sha256": None}, spec={"benchmark": "clustered vectors"},
                         dtype="float16", rows_per_shard=ROWS_PER_SHARD, overwrite=True)
    if not has_manifest(index):
        build_index(emb, index, kind=kind, sample_queries=200, k=24, overwrite=True)
        print(f"built {index.name} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return index


# --- the server -------------------------------------------------------------------------------------------
def start_server(index: Path, labels: Path) -> tuple[subprocess.Popen, str]:
    """`skyssl serve` on a free loopback port; returns the process and its URL once it answers."""
    skyssl = Path(sys.executable).parent / "skyssl"
    server = subprocess.Popen([str(skyssl), "serve", "--index", str(index), "--labels", str(labels), "--port", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = server.stdout.readline()
    match = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
    if not match:
        server.kill()
        raise SystemExit(f"server did not start: {line}{server.stderr.read()}")
    url = match.group(1)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/health", timeout=30).status_code == 200:
                return server, url
        except httpx.TransportError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("server did not answer /api/health within 120 s")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- the clients ------------------------------------------------------------------------------------------
def parse_mix(text: str) -> dict[str, float]:
    mix = {}
    for part in text.split(","):
        name, _, weight = part.partition("=")
        if name not in ("id", "coords", "thumbnail", "label"):
            raise SystemExit(f"--mix: unknown request kind {name!r}")
        mix[name] = float(weight)
    return mix


def request_for(kind: str, rng: np.random.Generator, ids: np.ndarray, ra: np.ndarray, dec: np.ndarray,
                client: int) -> tuple[str, str, bytes]:
    """(method, path with query, JSON body or b"") of one request of `kind` about a random object."""
    i = int(rng.integers(ids.size))
    if kind == "id":
        return "GET", f"/api/search?id={int(ids[i])}&k=24", b""
    if kind == "coords":
        return "GET", f"/api/search?ra={float(ra[i])!r}&dec={float(dec[i])!r}&k=24", b""
    if kind == "thumbnail":
        return "GET", f"/api/objects/{int(ids[i])}/thumbnail.png?size=128", b""
    body = {"object_id": int(ids[i]), "grade": str(rng.choice(["A", "B", "not-lens"])), "reviewer": f"client-{client}",
            "note": "load test"}
    return "POST", "/api/labels", json.dumps(body).encode()


class Connection:
    """A minimal keep-alive HTTP/1.1 client connection (the server always sends Content-Length).

    httpx costs ≈2 ms of CPU per request, which on a two-core machine shared with the server would
    be measured as server latency; this costs a few tens of µs.
    """

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n"
        if body:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + body)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("server closed the connection")
        length, close = 0, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "connection" and value.strip().lower() == "close":
                close = True
        await self.reader.readexactly(length)
        if close:
            await self.close()
        return int(status_line.split()[1])

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = self.reader = None


async def run_clients(url: str, n_clients: int, seconds: float, warmup: float, mix: dict[str, float],
                      ids: np.ndarray, ra: np.ndarray, dec: np.ndarray, seed: int) -> list[tuple[str, float, bool]]:
    """(kind, latency s, ok) of every request completed inside the measured window."""
    kinds, weights = list(mix), np.array(list(mix.values())) / sum(mix.values())
    host, port = url.removeprefix("http://").rsplit(":", 1)
    records: list[tuple[str, float, bool]] = []
    started = time.perf_counter()
    measure_from, stop_at = started + warmup, started + warmup + seconds

    async def client(number: int) -> None:
        rng = np.random.default_rng(seed + number)
        connection = Connection(host, int(port))
        while time.perf_counter() < stop_at:
            kind = kinds[int(rng.choice(len(kinds), p=weights))]
            method, path, body = request_for(kind, rng, ids, ra, dec, number)
            sent = time.perf_counter()
            try:
                ok = await connection.request(method, path, body) < 400
            except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError):
                ok = False
                await connection.close()
            done = time.perf_counter()
            if sent >= measure_from and done <= stop_at:
                records.append((kind, done - sent, ok))
        await connection.close()

    await asyncio.gather(*(client(c) for c in range(n_clients)))
    return records


def summarise(records: list[tuple[str, float, bool]], seconds: float) -> dict:
    def stats(latencies: np.ndarray, errors: int) -> dict:
        if latencies.size == 0:
            return {"requests": 0, "errors": errors}
        return {"requests": int(latencies.size), "per_s": round(latencies.size / seconds, 1), "errors": errors,
                "p50_ms": round(float(np.percentile(latencies, 50)) * 1e3, 1),
                "p99_ms": round(float(np.percentile(latencies, 99)) * 1e3, 1),
                "max_ms": round(float(latencies.max()) * 1e3, 1)}

    out = {"all": stats(np.array([r[1] for r in records]), sum(not r[2] for r in records))}
    for kind in sorted({r[0] for r in records}):
        mine = [r for r in records if r[0] == kind]
        out[kind] = stats(np.array([r[1] for r in mine]), sum(not r[2] for r in mine))
    return out


# --- the baselines ----------------------------------------------------------------------------------------
def timed_ms(fn, repeats: int) -> dict:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    times = np.array(times) * 1e3
    return {"p50_ms": round(float(np.percentile(times, 50)), 3), "p99_ms": round(float(np.percentile(times, 99)), 3)}


def authors_nearest(ra_deg: np.ndarray, dec_deg: np.ndarray, ra0: float, dec0: float) -> int:
    """The authors' app: angular distance from the query to every object, then argmin (O(N) per query)."""
    ra, dec, r0, d0 = np.radians(ra_deg), np.radians(dec_deg), np.radians(ra0), np.radians(dec0)
    cos_sep = np.sin(dec) * np.sin(d0) + np.cos(dec) * np.cos(d0) * np.cos(ra - r0)
    return int(np.argmax(cos_sep))


def baselines(index_path: Path, stamp_px: int, work: Path, seed: int, repeats: int) -> dict:
    from skyssl.app.labels_db import LabelsDB
    from skyssl.app.thumbnails import render_thumbnail_png
    from skyssl.search.build import load_unit_vectors
    from skyssl.search.coords import SkyLookup
    from skyssl.search.index import SearchIndex

    rng = np.random.default_rng(seed)
    survey = surveys.get(SURVEY)
    with SearchIndex.open(index_path) as index:
        ra, dec = index.catalog.ra_deg, index.catalog.dec_deg
        n = ra.size
        lookup = SkyLookup(ra, dec)
        picks = rng.integers(n, size=repeats)
        queries = iter(np.tile(picks, 2))
        scan = timed_ms(lambda: authors_nearest(ra, dec, ra[(i := next(queries))], dec[i]), repeats)
        tree = timed_ms(lambda: lookup.nearest(ra[(i := next(queries))], dec[i]), repeats)
        vectors = load_unit_vectors(index.embeddings, index.vector_kind)
        default_threads = faiss.omp_get_max_threads()
        faiss_search = {}
        for threads in (1, default_threads):  # the server runs one thread per request (skyssl.app.serving)
            faiss.omp_set_num_threads(threads)
            search_queries = iter(picks)
            faiss_search[f"omp_threads_{threads}"] = timed_ms(
                lambda it=search_queries: index.index.search(vectors[next(it)][None], 24), repeats)
        faiss.omp_set_num_threads(default_threads)
        stamp = index.store.read_images([0])[0]
    big = np.random.default_rng(seed).normal(0.0, 0.01, (3, 152, 152)).astype(np.float32) + 0.5
    labels = LabelsDB(work / "baseline-labels.sqlite")
    return {
        "n_objects": int(n),
        "coordinate_lookup": {"authors_numpy_scan": scan, "ours_kdtree": tree,
                              "authors_scan_at_42M_ms_extrapolated": round(scan["p50_ms"] * 42e6 / n, 1)},
        "bare_faiss_search_k24_same_index": faiss_search,
        "thumbnail_render": {f"stamp_{stamp_px}px": timed_ms(lambda: render_thumbnail_png(stamp, survey, 128),
                                                               min(repeats, 200)),
                             "stamp_152px": timed_ms(lambda: render_thumbnail_png(big, survey, 128), min(repeats, 200))},
        "label_insert_fsync": timed_ms(lambda: labels.add(1, "A", "baseline", ""), min(repeats, 100)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="objects in the synthetic index")
    parser.add_argument("--stamp-px", type=int, default=32)
    parser.add_argument("--kind", choices=("flat", "hnsw", "ivfpq"), default="flat", help="index kind")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=30.0, help="measured window")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--mix", default=DEFAULT_MIX, help="request kinds and weights")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "skyssl-serve-load",
                        help="where the index is built (and reused)")
    parser.add_argument("--repeats", type=int, default=500, help="single requests timed per baseline")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    args.work.mkdir(parents=True, exist_ok=True)
    info = machine()
    index = build_index_folder(args.work, args.n, args.stamp_px, args.seed, args.kind)
    from skyssl.store import Store

    with Store.open(next(args.work.glob(f"store-n{args.n}-px{args.stamp_px}-s{args.seed}"))) as store:
        ids, ra, dec = store.object_ids, store.read_column("ra"), store.read_column("dec")
    labels = args.work / f"labels-{os.getpid()}.sqlite"
    server, url = start_server(index, labels)
    try:
        cpu_before, client_cpu_before = cpu_seconds(server.pid), time.process_time()
        records = asyncio.run(run_clients(url, args.clients, args.seconds, args.warmup, parse_mix(args.mix), ids, ra,
                                          dec, args.seed))
        server_cpu = cpu_seconds(server.pid) - cpu_before
        client_cpu = time.process_time() - client_cpu_before
    finally:
        server.terminate()
        server.wait(timeout=60)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{labels}{suffix}").unlink(missing_ok=True)
    service = summarise(records, args.seconds)
    result = {
        "benchmark": "serve_load", "machine": info, "load_1min_end": os.getloadavg()[0],
        "settings": {"n_objects": args.n, "stamp_px": args.stamp_px, "clients": args.clients,
                     "seconds": args.seconds, "warmup": args.warmup, "mix": args.mix, "index_kind": args.kind,
                     "dim": DIM},
        "service": service,
        "cpu_seconds_during_load": {"server": round(server_cpu, 1), "clients": round(client_cpu, 1),
                                    "wall": args.seconds + args.warmup},
        "baseline_single_requests_in_process": baselines(index, args.stamp_px, args.work, args.seed, args.repeats),
        "target": {"errors": 0, "p99_ms": 200, "met": service["all"]["errors"] == 0
                   and service["all"].get("p99_ms", 1e9) <= 200},
    }
    print(json.dumps(result, indent=2))
    overall = service["all"]
    print(f"{args.clients} clients: {overall.get('per_s')} req/s, p50 {overall.get('p50_ms')} ms, "
          f"p99 {overall.get('p99_ms')} ms, errors {overall['errors']}", file=sys.stderr)


if __name__ == "__main__":
    main()
