"""Basics every layer may use: atomic file writes and image reading (``files``), downloads, memory readings, interrupt
handling, console tables, small array helpers, telemetry consent."""
