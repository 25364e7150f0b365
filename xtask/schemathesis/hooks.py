"""Schemathesis hooks for `cargo xtask chaos`: sign every webhook request.

The api verifies X-Retell-Signature over the exact bytes it receives, so the
body is serialized here, once, and both sent and signed as those bytes. Every
generated case therefore reaches the real signature check and, past it, the
real decoding and storage; a refusal comes from what the body says, not from
a missing signature.

Two steps, because schemathesis applies credentials when it generates a case
but the bytes exist only when it sends one: the auth provider below marks a
case as carrying our (explicit) credentials, and `before_call` turns the mark
into the signature of the final body. Cases whose credentials schemathesis
removed on purpose, and its own authentication probes (sent without hooks),
go unsigned, so they still check that the api refuses them. The secret comes
from WEBHOOK_SECRET.

One constraint the schema states but cannot encode: an event's time must lie
between 2020 and 24 hours after receipt (else 422 timestamp_out_of_range, as
the schema's descriptions say). A generated time outside that window, in a
body that is otherwise schema-valid, is moved inside it; the window itself is
tested by the api's unit tests and e2e/tests/bad_input.rs.
"""

import datetime
import hashlib
import hmac
import json
import os
import time

import schemathesis
from schemathesis.core import NotSet

SECRET = os.environ["WEBHOOK_SECRET"].encode()
WEBHOOK_PATH = "/webhooks/retell"
EARLIEST_MS = 1_577_836_800_000  # 2020-01-01T00:00:00Z
MAX_FUTURE_MS = 24 * 3600 * 1000


def in_window(ms):
    return EARLIEST_MS <= ms <= int(time.time() * 1000) + MAX_FUTURE_MS


def clamp_times(body):
    """Moves well-typed event times that lie outside the accepted window to now."""
    if not isinstance(body, dict):
        return
    now_ms = int(time.time() * 1000)
    stamp = body.get("timestamp")
    if isinstance(stamp, str):
        try:
            parsed = datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
            if parsed.tzinfo is not None and not in_window(int(parsed.timestamp() * 1000)):
                body["timestamp"] = datetime.datetime.now(datetime.timezone.utc).isoformat()
        except (ValueError, OverflowError, OSError):
            pass
    call = body.get("call")
    if isinstance(call, dict):
        for key in ("start_timestamp", "end_timestamp"):
            value = call.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and not in_window(value):
                call[key] = now_ms


SIGNATURE_HEADER = "X-Retell-Signature"
PENDING = "pending: signed by before_call over the final body"


@schemathesis.auth()
class RetellSignature:
    def get(self, case, ctx):
        # Not the secret: this value may appear in schemathesis's own output.
        return "signed per request"

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers[SIGNATURE_HEADER] = PENDING


@schemathesis.hook
def before_call(context, case, kwargs):
    if case.path != WEBHOOK_PATH or (case.headers or {}).get(SIGNATURE_HEADER) != PENDING:
        return
    if isinstance(case.body, NotSet):
        body = b""
    elif isinstance(case.body, (bytes, bytearray)):
        body = bytes(case.body)
    else:
        clamp_times(case.body)
        body = json.dumps(case.body).encode()
    kwargs["data"] = body
    ts = str(int(time.time() * 1000))
    digest = hmac.new(SECRET, body + ts.encode(), hashlib.sha256).hexdigest()
    case.headers[SIGNATURE_HEADER] = f"v={ts},d={digest}"
