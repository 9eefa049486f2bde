"""Similarity search over embeddings: exact and approximate cosine search (Faiss), coordinate lookup,
filters, multi-example queries, all-pairs top-k tables and search-quality evaluation.

- :func:`build_index` / :class:`SearchIndex` — the Index artefact and queries against it;
- :func:`parse_coordinates` / :class:`SkyLookup` — positions typed by users, nearest catalogue object;
- :class:`SearchFilters` — what results may be;
- :func:`build_neighbors` / :class:`NeighborTable` — all-pairs exact top-k tables;
- :func:`evaluate_search` — precision@k and enrichment of single-example search.
"""

from skyssl.search.build import INDEX_KIND, INDEX_SCHEMA_VERSION, build_index
from skyssl.search.coords import SkyLookup, parse_coordinates
from skyssl.search.evaluate import augmented_copy_top1_rate, evaluate_search
from skyssl.search.filters import SearchFilters
from skyssl.search.index import SearchIndex
from skyssl.search.neighbor_table import NEIGHBORS_KIND, NeighborTable
from skyssl.search.neighbors import build_neighbors

__all__ = ["INDEX_KIND", "INDEX_SCHEMA_VERSION", "NEIGHBORS_KIND", "NeighborTable", "SearchFilters", "SearchIndex",
           "SkyLookup", "augmented_copy_top1_rate", "build_index", "build_neighbors", "evaluate_search",
           "parse_coordinates"]
