"""The cloudbeds PMS adapter (being written)."""
