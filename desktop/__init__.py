"""Sapan desktop application: caseworker app for migrant workers' social security."""
