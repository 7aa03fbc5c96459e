"""Proof that no score was forged or lost: each device's ratings as a keyed hash chain, its
heads anchored outside the database, and the verification that reads it all back."""
