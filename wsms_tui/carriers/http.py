"""An adapter for a carrier's web API (JSON over HTTP), written with the standard library (``urllib``).

The protocol it speaks is the small one documented in docs/CARRIERS.md:

* ``POST {url}/shipments`` with the box as JSON, headers ``Authorization: Bearer KEY`` and
  ``Idempotency-Key: <SSCC>`` → ``201 {"tracking": "...", "service": "...", "label": {...}}``;
* ``POST {url}/shipments/{reference}/cancel`` (same headers; ``reference`` is the SSCC the box was booked
  with) → ``200 {"status": "cancelled"}``; cancelling again answers the same;
* ``GET {url}/shipments/{tracking}`` → ``{"tracking": "...", "status": "...", "events": [...]}``;
* an error is any non-2xx answer, ideally with ``{"error": "why"}``.

A real carrier whose API differs gets its own adapter class shaped like this one. Every failure —
refusal (4xx), carrier trouble (5xx), no answer within ``timeout_s``, a connection refused, an answer
that is not the JSON expected — is one ``CarrierError`` with a message for a person; nothing is
written by the caller when it is raised, and asking again is safe (same idempotency key).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import asdict
from typing import Any

from wsms_tui.carriers.base import CarrierError, CarrierLabel, ShipmentRequest, TrackingEvent, TrackingInfo
from wsms_tui.i18n import _

MAX_ANSWER = 1_000_000


class HttpCarrier:
    needs_waybill = False

    def __init__(self, name: str, url: str, *, api_key: str = "", timeout_s: float = 10.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise CarrierError(_("carrier {c}: its url must start with http:// or https://").format(c=name))
        self.name = name
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.timeout_s = timeout_s

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None,
              idempotency_key: str = "") -> dict[str, Any]:
        data = json.dumps(body, ensure_ascii=False, default=str).encode("utf-8") if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json; charset=utf-8")
        if self.api_key:
            req.add_header("Authorization", f"Bearer {self.api_key}")
        if idempotency_key:
            req.add_header("Idempotency-Key", idempotency_key)
        safe = _("nothing was saved here; trying again is safe")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:  # noqa: S310 - http(s) only, checked
                raw = resp.read(MAX_ANSWER + 1)
        except urllib.error.HTTPError as exc:
            why = _error_text(exc)
            if 400 <= exc.code < 500:
                raise CarrierError(_("carrier {c} refused: {why} (HTTP {code})").format(
                    c=self.name, why=why, code=exc.code)) from None
            raise CarrierError(_("carrier {c} failed: {why} (HTTP {code}); {safe}").format(
                c=self.name, why=why, code=exc.code, safe=safe)) from None
        except TimeoutError:
            raise CarrierError(_("carrier {c} did not answer within {t:g} s; {safe}").format(
                c=self.name, t=self.timeout_s, safe=safe)) from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, TimeoutError):
                raise CarrierError(_("carrier {c} did not answer within {t:g} s; {safe}").format(
                    c=self.name, t=self.timeout_s, safe=safe)) from None
            raise CarrierError(_("cannot reach carrier {c} at {u}: {why}; {safe}").format(
                c=self.name, u=self.url, why=reason, safe=safe)) from None
        except (ConnectionError, OSError) as exc:
            raise CarrierError(_("cannot reach carrier {c} at {u}: {why}; {safe}").format(
                c=self.name, u=self.url, why=exc, safe=safe)) from None
        if len(raw) > MAX_ANSWER:
            raise CarrierError(_("carrier {c} answered more than {n} bytes; {safe}").format(
                c=self.name, n=MAX_ANSWER, safe=safe))
        try:
            answer = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise CarrierError(_("carrier {c} answered something that is not JSON; {safe}").format(
                c=self.name, safe=safe)) from None
        if not isinstance(answer, dict):
            raise CarrierError(_("carrier {c} answered JSON that is not an object; {safe}").format(
                c=self.name, safe=safe))
        return answer

    def create_shipment(self, request: ShipmentRequest) -> CarrierLabel:
        body = asdict(request)
        body["weight_kg"] = str(request.weight_kg)
        answer = self._call("POST", "/shipments", body, idempotency_key=request.reference)
        tracking = answer.get("tracking")
        if not isinstance(tracking, str) or not tracking.strip() or len(tracking) > 64:
            raise CarrierError(_("carrier {c} answered without a tracking number; nothing was saved here").format(
                c=self.name))
        label = answer.get("label") or {}
        if not isinstance(label, dict):
            label = {}
        return CarrierLabel(self.name, tracking.strip(), str(answer.get("service") or request.service or ""),
                            {str(k): str(v) for k, v in label.items()})

    def cancel_shipment(self, tracking: str, reference: str) -> None:
        answer = self._call("POST", "/shipments/" + urllib.request.quote(reference, safe="") + "/cancel",
                            {"reference": reference, "tracking": tracking}, idempotency_key=reference)
        status = str(answer.get("status") or "cancelled")
        if status != "cancelled":
            raise CarrierError(_("carrier {c} did not cancel {t}: it answered {st!r}; nothing was changed here").format(
                c=self.name, t=tracking, st=status[:60]))

    def track(self, tracking: str) -> TrackingInfo:
        answer = self._call("GET", "/shipments/" + urllib.request.quote(tracking, safe=""))
        events = tuple(TrackingEvent(str(e.get("at", "")), str(e.get("status", "")), str(e.get("where", "")))
                       for e in answer.get("events") or [] if isinstance(e, dict))
        return TrackingInfo(self.name, tracking, str(answer.get("status") or ""), events)


def _error_text(exc: urllib.error.HTTPError) -> str:
    try:
        body = exc.read(10_000).decode("utf-8", "replace")
    except Exception:  # noqa: BLE001 - the status line is enough
        body = ""
    try:
        data = json.loads(body)
        if isinstance(data, dict) and data.get("error"):
            return str(data["error"])[:300]
    except json.JSONDecodeError:
        pass
    return (body.strip()[:200] or exc.reason or "").strip() or str(exc.code)
