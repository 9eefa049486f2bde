"""Supervised training of a pretrained run's encoder with a head on images: fine-tuning (separate head and
backbone learning rates, oversampling, the run's augmentations) and the same network from scratch, shared
by lens mining, photo-z and morphology. It sits above `skyssl.embed` because it loads runs as embedding
does."""
