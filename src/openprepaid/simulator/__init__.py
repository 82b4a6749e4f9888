"""The site simulator: virtual gateways and meters on localhost speaking the real protocols.

See ``docs/simulator.md``. This package uses the slave side of the protocol core and nothing
above it: no Django, no domain, no headend.
"""
