"""Two-way sync with a PSA's API: one interface (base.py), one module per vendor."""
