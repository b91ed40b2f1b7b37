"""Schemathesis hooks for the local stack.

`cargo lambda watch` turns a body sent as text or JSON into a string before our
function sees it, and answers 500 itself when the bytes are not UTF-8 (API
Gateway base64-encodes such bodies instead, and our functions answer 400). Those
cases test the emulator, not the service, so they are not generated; the
functions' handling of binary bodies is covered by the Rust tests.
"""
import schemathesis


@schemathesis.hook
def filter_body(ctx, body):
    if isinstance(body, (bytes, bytearray)):
        try:
            bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            return False
    return True
