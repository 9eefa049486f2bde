"""Embeddings: bulk, sharded, resumable vectors for every object of a store, with provenance.

:mod:`skyssl.embed.artefact` writes and :mod:`skyssl.embed.reader` reads the Embeddings artefact
(DESIGN: files that pass between layers).
"""

from skyssl.embed.artefact import EmbeddingWriter, write_embeddings
from skyssl.embed.reader import EMBEDDINGS_KIND, EMBEDDINGS_SCHEMA_VERSION, Embeddings

__all__ = ["EMBEDDINGS_KIND", "EMBEDDINGS_SCHEMA_VERSION", "EmbeddingWriter", "Embeddings", "write_embeddings"]
