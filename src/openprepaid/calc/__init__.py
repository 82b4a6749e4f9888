"""Pure domain calculations (layer 2): money rounding, tariffs, consumption from register deltas.

Plain Python on ``Decimal``; no Django, no I/O (``lint-imports`` enforces it).
"""
