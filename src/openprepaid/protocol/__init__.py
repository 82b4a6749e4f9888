"""Protocol core (layer 1): sans-IO codecs for DL/T 645-2007 and Modbus-RTU, the
data-identifier table, the meter security module and meter profiles.

Bytes in, typed events out: nothing here opens a socket, runs an event loop, reads the clock or
imports Django (``lint-imports`` enforces it).
"""
