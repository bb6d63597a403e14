"""Demo data (placeholder until written)."""
