"""DeskTable (screens/widgets/tables.py) draws exactly what DataTable draws, but a cell update renders
only that row again. Checked against the pinned Textual: if DataTable's render caches change, these fail."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from tests.tui_helpers import async_test
from wsms_tui.screens.widgets.tables import DeskTable


class Tables(App[None]):
    CSS = "DataTable { height: 10; width: 40; }"

    def compose(self) -> ComposeResult:
        yield DataTable(id="plain", cursor_type="row", zebra_stripes=True)
        yield DeskTable(id="desk", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        for table in self.query(DataTable).results():
            table.add_columns(*[Text(c) for c in ("line", "sku", "received")])
            for n in range(1, 31):
                table.add_row(Text(str(n)), Text(f"SKU-{n}"), Text("0", justify="right"), key=str(n))


def lines(table: DataTable[Any]) -> list[str]:
    return [table.render_line(y).text for y in range(table.size.height)]


@async_test
async def test_desk_table_shows_what_data_table_shows_after_updates() -> None:
    app = Tables()
    async with app.run_test(size=(80, 24)) as pilot:
        plain, desk = app.query_one("#plain", DataTable), app.query_one("#desk", DeskTable)
        await pilot.pause()
        assert lines(desk) == lines(plain)
        for table in (plain, desk):
            table.update_cell("2", table.ordered_columns[2].key, Text("5", justify="right"))
            table.move_cursor(row=3)
            table.update_cell("4", table.ordered_columns[2].key, Text("12", justify="right"))
        await pilot.pause()
        assert lines(desk) == lines(plain)
        assert "12" in lines(desk)[4] and "5" in lines(desk)[2]
        desk.scroll_to(y=20, animate=False)
        plain.scroll_to(y=20, animate=False)
        desk.update_cell("25", desk.ordered_columns[2].key, Text("7", justify="right"))
        plain.update_cell("25", plain.ordered_columns[2].key, Text("7", justify="right"))
        await pilot.pause()
        assert lines(desk) == lines(plain)


@async_test
async def test_a_cell_update_renders_only_its_row_again() -> None:
    app = Tables()
    async with app.run_test(size=(80, 24)) as pilot:
        desk = app.query_one("#desk", DeskTable)
        await pilot.pause()
        lines(desk)
        rendered: list[tuple[Any, ...]] = []
        render_cell = desk._render_cell

        def counting(*args: Any, **kwargs: Any) -> Any:
            key = args[0]
            misses_before = len(desk._cell_render_cache)
            result = render_cell(*args, **kwargs)
            if len(desk._cell_render_cache) != misses_before:
                rendered.append(key)
            return result

        desk._render_cell = counting  # type: ignore[method-assign]
        desk.update_cell("3", desk.ordered_columns[2].key, Text("9", justify="right"))
        lines(desk)
        assert set(rendered) == {2}  # row index 2 (key "3"), its three cells; no other row
        assert len(rendered) == 3
