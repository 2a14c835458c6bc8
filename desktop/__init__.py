"""Sapan desktop application: caseworker app for migrant workers' social security."""

import importlib.metadata


def app_version() -> str:
    """The installed version of Sapan ("unknown" when run from a bare source tree)."""
    try:
        return importlib.metadata.version("sapan")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
