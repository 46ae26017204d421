"""One module per screen. Modules are imported when a screen is first shown."""
