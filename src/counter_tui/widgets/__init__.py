"""Reusable widgets of the counter terminal."""
