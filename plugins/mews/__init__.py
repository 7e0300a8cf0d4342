"""The mews PMS adapter (being written)."""
