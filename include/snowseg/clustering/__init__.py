"""Clustering: choosing k and fitting segments (the stability ensemble lands in ensemble.py)."""
