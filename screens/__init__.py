"""Textual screens of the wsms TUI (installed as ``wsms_tui.screens``); one screen per file, its .tcss beside it."""
