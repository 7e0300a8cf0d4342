"""Domain rules, one module per area: plain functions, one transaction each."""
