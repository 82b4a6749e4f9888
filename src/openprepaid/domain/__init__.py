"""Domain services (layer 4): one Django app per area.

Every app keeps the same small set of modules: ``models.py`` (tables and database constraints),
``services.py`` (verbs that change state: one transaction, permission check and system-log row
each), ``selectors.py`` (reads for pages, reports and exports).
"""
