"""Rare-object mining: linear probes on cached representations, fine-tuning, ranked candidates and the
lens-finding metrics every method is judged by (precision in the top N, TPR0, TPR10, AUC)."""
