"""PySide6 widgets, item models and wizards. Calls services only; no SQL here."""
