"""The cutout store: images in nanomaggies + catalogue + stable ids, in HDF5 shards with a manifest.

Reads skyssl stores and the original authors' DR9 and SDSS files (or folders of them) through one
class, :class:`Store`; writes stores through :class:`StoreWriter`.
"""

from skyssl.store.reader import STORE_KIND, STORE_SCHEMA_VERSION, Store
from skyssl.store.writer import StoreWriter

__all__ = ["STORE_KIND", "STORE_SCHEMA_VERSION", "Store", "StoreWriter"]
