"""Cohort import."""
