"""DeskTable: Textual's DataTable whose ``update_cell`` redraws only the row it changed.

DataTable.update_cell bumps the table's update counter, which is part of every cached cell and row
render: after one changed cell the whole visible table is rendered again (on the Receiving desk that
was most of the redraw after a scan). Here a cell update drops only that row's cached renders and
refreshes that row. It relies on DataTable's render caches (``_data``, ``_cell_render_cache``,
``_row_render_cache`` keyed by row key first, ``_row_renderable_cache`` by update count and row
index, ``_line_cache``), checked against the pinned
Textual version by tests/test_tui_tables.py.
"""

from __future__ import annotations

from typing import Any

from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, ColumnKey, RowKey


class DeskTable(DataTable[Any]):
    def update_cell(self, row_key: RowKey | str, column_key: ColumnKey | str, value: Any, *,
                    update_width: bool = False) -> None:
        if update_width:
            super().update_cell(row_key, column_key, value, update_width=True)
            return
        row = RowKey(row_key) if isinstance(row_key, str) else row_key
        column = ColumnKey(column_key) if isinstance(column_key, str) else column_key
        if row not in self._row_locations or column not in self._column_locations:
            raise CellDoesNotExist(f"No cell exists for row_key={row_key!r}, column_key={column_key!r}.")
        self._data[row][column] = value
        index = self.get_row_index(row)
        for cache in (self._cell_render_cache, self._row_render_cache):
            for key in [k for k in cache.keys() if k[0] == row]:  # noqa: SIM118 - an LRUCache, not a dict
                cache.discard(key)
        self._row_renderable_cache.discard((self._update_count, index))
        self._line_cache.clear()
        self.refresh_row(index)
