"""The simulated survey: seeded DR9-like and SDSS-like cutouts with a sweep-like catalogue and truth."""
