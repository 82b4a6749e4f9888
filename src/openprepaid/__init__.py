"""OpenPrepaid: remote prepaid electricity management for commercial buildings.

Where code goes (imports point down this list only; ``lint-imports`` checks it):

* ``openprepaid.cli``, ``openprepaid.web`` — interfaces: the ``openprepaid`` command, the
  operator console, later the tenant portal and the REST API. They call domain services and
  selectors and hold no business rules.
* ``openprepaid.domain`` — Django apps: models, ``services.py`` (verbs that change state, one
  transaction each, with their system-log row) and ``selectors.py`` (reads for pages).
* ``openprepaid.headend`` — the asyncio service that talks to gateways and meters.
* ``openprepaid.calc`` — pure calculations: money, tariffs, consumption. No Django.
* ``openprepaid.protocol`` — sans-IO meter protocol codecs and meter profiles. No Django, no I/O.
"""

__version__ = "0.1.0"
