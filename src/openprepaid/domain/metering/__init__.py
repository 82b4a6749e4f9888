"""Metering: what the headend read from the meters, the commands sent to them, lost-contact
alarms and gateway health. ``repository.DjangoRepository`` is the headend's door to these
tables; ``services`` and ``selectors`` serve the console."""
