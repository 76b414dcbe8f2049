"""The evdev scanner wired into the TUI (``[scanner] evdev = PATH``): its scans reach the desk on screen,
an over-long scan is refused whole, an unplug or a missing ``evdev`` package is a clear message while the
keyboard keeps working.

This machine has no ``/dev/input`` or ``/dev/uinput``, so python-evdev itself cannot run here: a small
stand-in module takes its place, an input device whose events come through a real pipe (8-byte records
``type, code, value``) and whose end of file is an unplug. Everything of ours runs as in production: the
``EvdevScanner`` thread with its ``select`` loop and key decoder, the App's messages, the desk.
"""

from __future__ import annotations

import os
import struct
import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest
from textual.widgets import DataTable

from tests.test_evdev_keymap import typed
from tests.tui_helpers import async_test, login, seed_stock, table_rows, tui_settings, until
from wsms_tui.app import WsmsApp
from wsms_tui.config import ScannerSettings
from wsms_tui.database import Database
from wsms_tui.screens.stock import StockScreen

SIZE = (80, 24)
PATH = "/dev/input/by-id/usb-test-scanner-event-kbd"
EV_KEY = 1
RECORD = struct.Struct("<HHi")


class _Event:
    def __init__(self, type_: int, code: int, value: int) -> None:
        self.type, self.code, self.value = type_, code, value


class FakeEvdev:
    """The part of python-evdev that ``EvdevScanner`` uses, over pipes: ``devices[path]`` is the read end."""

    def __init__(self) -> None:
        self.devices: dict[str, int] = {}
        self.grabbed: list[str] = []
        self.module = types.ModuleType("evdev")
        self.module.ecodes = types.SimpleNamespace(EV_KEY=EV_KEY)  # type: ignore[attr-defined]
        self.module.InputDevice = self.input_device  # type: ignore[attr-defined]

    def plug(self, path: str) -> int:
        """A device at ``path``; returns the write end (key events go in there)."""
        r, w = os.pipe()
        self.devices[path] = r
        return w

    def input_device(self, path: str) -> Any:
        if path not in self.devices:
            raise FileNotFoundError(2, "No such file or directory", path)
        fake, fd = self, self.devices[path]

        class Device:
            def __init__(self) -> None:
                self.fd = fd

            def grab(self) -> None:
                fake.grabbed.append(path)

            def ungrab(self) -> None:
                fake.grabbed.remove(path)

            def read(self) -> list[_Event]:
                data = os.read(fd, 64 * RECORD.size)
                if not data:  # unplugged: the device node is gone too
                    if fake.devices.get(path) == fd:
                        del fake.devices[path]
                    raise OSError(19, "No such device")  # what python-evdev raises when it is unplugged
                return [_Event(*RECORD.unpack_from(data, i)) for i in range(0, len(data) - len(data) % RECORD.size,
                                                                            RECORD.size)]

            def close(self) -> None:
                os.close(fd)

        return Device()


def send(w: int, text: str) -> None:
    os.write(w, b"".join(RECORD.pack(EV_KEY, code, value) for code, value in typed(text)))


@pytest.fixture
def fake_evdev(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeEvdev]:
    fake = FakeEvdev()
    monkeypatch.setitem(sys.modules, "evdev", fake.module)
    yield fake


def settings_with_evdev() -> Any:
    return tui_settings(scanner=ScannerSettings.model_construct(prefix="", suffix="", max_interkey_ms=40,
                                                                evdev=PATH, evdev_grab=True, url=""))


def errors(app: WsmsApp) -> list[str]:
    return [n.message for n in app._notifications if n.severity == "error"]


@async_test
async def test_evdev_scans_reach_the_desk_an_unplug_is_said_and_a_replug_resumes(db: Database,
                                                                                 fake_evdev: FakeEvdev) -> None:
    seed_stock(db)
    w = fake_evdev.plug(PATH)
    app = WsmsApp(db, settings_with_evdev())
    bells: list[int] = []
    app.bell = lambda: bells.append(1)  # type: ignore[method-assign]
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: fake_evdev.grabbed == [PATH])  # grabbed: its keys reach wsms only
            await login(pilot)
            assert "keyboard + evdev" in str(app.status_info(app.actor).scanner)
            await pilot.press("f2")
            send(w, "A-02\n")
            screen = app.screen
            assert isinstance(screen, StockScreen)
            await until(pilot, lambda: [r[2] for r in table_rows(screen.query_one(DataTable))] == ["A-02"])

            send(w, "9" * 5000 + "\n")  # longer than 4096: refused whole, never cut short
            await until(pilot, lambda: errors(app))
            assert "5000" in errors(app)[0] and bells == [1]
            send(w, "A-01\n")  # the next scan works
            await until(pilot, lambda: "A-01" in [r[2] for r in table_rows(screen.query_one(DataTable))])

            os.close(w)  # unplugged
            w = -1
            await until(pilot, lambda: len(errors(app)) == 2)
            assert "No such device" in errors(app)[1] and "keyboard still works" in errors(app)[1]
            assert fake_evdev.grabbed == []
            await pilot.press(*"A-02", "enter")  # the keyboard still works
            await until(pilot, lambda: [r[2] for r in table_rows(screen.query_one(DataTable))] == ["A-02"])

            w = fake_evdev.plug(PATH)  # plugged back: grabbed again, scans resume without a restart
            await until(pilot, lambda: any("connected again" in n.message for n in app._notifications))
            assert fake_evdev.grabbed == [PATH] and len(errors(app)) == 2
            send(w, "A-01\n")
            await until(pilot, lambda: set(r[2] for r in table_rows(screen.query_one(DataTable))) == {"A-01"})
    finally:
        if w >= 0:
            os.close(w)


@async_test
async def test_a_missing_evdev_device_or_package_is_a_clear_message(db: Database, fake_evdev: FakeEvdev,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    seed_stock(db)
    app = WsmsApp(db, settings_with_evdev())  # no device plugged at PATH
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: errors(app))
        assert f"cannot open {PATH}" in errors(app)[0]
        await login(pilot)  # the desk works without it
        assert app.actor is not None

    monkeypatch.setitem(sys.modules, "evdev", None)  # python-evdev not installed
    app = WsmsApp(db, settings_with_evdev())
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: errors(app))
        assert "evdev support is not installed" in errors(app)[0]
        await login(pilot)
        assert app.actor is not None
