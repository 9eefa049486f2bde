"""skyssl: self-supervised representations, similarity search and rare-object mining for sky surveys."""

__version__ = "0.1.0"
