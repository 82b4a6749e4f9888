"""Quick configuration by spreadsheet (快速配置): gateways, units, meters and tenants.

- :mod:`.spec` — the format: the four tables, their columns and accepted values;
- :mod:`.tables` — :class:`~.tables.ConfigTables`, the rows of one upload as text;
- :mod:`.readers` — ``read_upload``: an ``.xlsx`` or ``.csv`` file into tables;
- :mod:`.services` — ``import_configuration``: all or nothing, through the domain services,
  with :mod:`.rows` (one importer per table), :mod:`.cells` (typed cells) and :mod:`.context`
  (what the import has loaded from the database);
- :mod:`.report` — what the import did (or would do) row by row;
- :mod:`.template` and :mod:`.export` — blank templates and the current configuration.

The format is documented for operators in ``docs/spreadsheet.md``.
"""
