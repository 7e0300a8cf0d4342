"""The apaleo PMS adapter (being written)."""
