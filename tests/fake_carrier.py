"""A fake carrier web API on loopback (stdlib ``http.server`` in a thread) for the HTTP carrier adapter's tests.

``POST /shipments`` books a box (one tracking number per ``Idempotency-Key``), ``POST /shipments/REF/cancel``
cancels the booking of reference REF (recorded in ``cancels``; again: the same answer; a reference in
``collected`` is refused with 409, an unknown one with 404), ``GET /shipments/T`` tracks it (a cancelled
booking reads ``cancelled``).
``mode`` makes it misbehave: ``refuse`` (422 with a reason), ``fail`` (503), ``slow`` (answers after
``delay`` s), ``garbage`` (200 with no JSON), ``no_tracking`` (200 JSON without a tracking number).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeCarrier:
    def __init__(self, api_key: str = "secret") -> None:
        self.api_key = api_key
        self.mode = "ok"
        self.delay = 2.0
        #: when set by a test, "slow" answers once the test sets this event (``delay`` is then the longest wait)
        self.gate: threading.Event | None = None
        self.bookings: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        #: every cancel asked for, by reference (repeats included)
        self.cancels: list[str] = []
        #: references the driver has picked up already: cancelling them is refused (409)
        self.collected: set[str] = set()
        #: called with the reference before a cancel is answered (a test's "meanwhile, at another bench …")
        self.on_cancel: Callable[[str], None] | None = None
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, code: int, body: object) -> None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _misbehave(self) -> bool:
                if fake.mode == "slow":
                    if fake.gate is not None:
                        fake.gate.wait(fake.delay)
                    else:
                        time.sleep(fake.delay)
                if fake.mode == "refuse":
                    self._send(422, {"error": "postcode 000000 is not served"})
                    return True
                if fake.mode == "fail":
                    self._send(503, {"error": "booking system down"})
                    return True
                if fake.mode == "garbage":
                    self._send(200, b"<html>oops</html>")
                    return True
                return False

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                fake.requests.append(("POST", self.path, dict(self.headers)))
                if self.headers.get("Authorization") != f"Bearer {fake.api_key}":
                    self._send(401, {"error": "bad API key"})
                    return
                if self._misbehave():
                    return
                parts = self.path.strip("/").split("/")
                if len(parts) == 3 and parts[0] == "shipments" and parts[2] == "cancel":
                    self._cancel(parts[1])
                    return
                if fake.mode == "no_tracking":
                    self._send(201, {"service": "x"})
                    return
                req = json.loads(body)
                key = self.headers.get("Idempotency-Key") or ""
                if key not in fake.bookings:
                    fake.bookings[key] = {"tracking": f"FC{len(fake.bookings) + 1:08d}", "service": "express",
                                          "label": {"route": "HUB-" + req["ship_to"]["country"]}, "request": req}
                b = fake.bookings[key]
                self._send(201, {k: b[k] for k in ("tracking", "service", "label")})

            def _cancel(self, ref: str) -> None:
                fake.cancels.append(ref)
                if fake.on_cancel is not None:
                    fake.on_cancel(ref)
                if ref in fake.collected:
                    self._send(409, {"error": "the driver collected it already"})
                    return
                b = fake.bookings.get(ref)
                if b is None:
                    self._send(404, {"error": f"no booking {ref}"})
                    return
                b["cancelled"] = True
                self._send(200, {"reference": ref, "tracking": b["tracking"], "status": "cancelled"})

            def do_GET(self) -> None:  # noqa: N802
                fake.requests.append(("GET", self.path, dict(self.headers)))
                if self._misbehave():
                    return
                tracking = self.path.rsplit("/", 1)[-1]
                found = next((b for b in fake.bookings.values() if b["tracking"] == tracking), None)
                if found is None:
                    self._send(404, {"error": f"no shipment {tracking}"})
                    return
                if found.get("cancelled"):
                    self._send(200, {"tracking": tracking, "status": "cancelled", "events": []})
                    return
                self._send(200, {"tracking": tracking, "status": "in transit",
                                 "events": [{"at": "2026-11-27T10:00:00Z", "status": "picked up", "where": "Hub"}]})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeCarrier:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
