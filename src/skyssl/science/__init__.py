"""Downstream science on representations: photometric redshifts, morphology, the UMAP map of the
representation space and anomaly scores."""
