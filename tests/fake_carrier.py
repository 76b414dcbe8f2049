"""A fake carrier web API on loopback (stdlib ``http.server`` in a thread) for the HTTP carrier adapter's tests.

``POST /shipments`` books a box (one tracking number per ``Idempotency-Key``), ``GET /shipments/T`` tracks it.
``mode`` makes it misbehave: ``refuse`` (422 with a reason), ``fail`` (503), ``slow`` (answers after
``delay`` s), ``garbage`` (200 with no JSON), ``no_tracking`` (200 JSON without a tracking number).
"""

from __future__ import annotations

import json
import threading
import time
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

            def do_GET(self) -> None:  # noqa: N802
                fake.requests.append(("GET", self.path, dict(self.headers)))
                if self._misbehave():
                    return
                tracking = self.path.rsplit("/", 1)[-1]
                if not any(b["tracking"] == tracking for b in fake.bookings.values()):
                    self._send(404, {"error": f"no shipment {tracking}"})
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
