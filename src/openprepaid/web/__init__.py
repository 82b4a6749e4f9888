"""Interfaces served over HTTP: the operator console (``web.console``); later the tenant portal
and the REST API. Views call domain services and selectors; they never save models themselves.
"""
