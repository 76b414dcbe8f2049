"""Widgets shared by several screens: the scan field and the status bar."""
