"""A real HTTP receiver on 127.0.0.1 for webhooks out: keeps every request, answers `status`."""
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import List, NamedTuple

from ..webhooks.signing import EVENT_HEADER, EVENT_ID_HEADER, SIGNATURE_HEADER, verify


class Received(NamedTuple):
    event: str
    event_id: str
    signature: str
    body: bytes
    answered: int

    @property
    def payload(self):
        return json.loads(self.body)


class WebhookReceiver:
    def __init__(self):
        self.requests: List[Received] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                answered = receiver.status
                receiver.requests.append(Received(
                    self.headers.get(EVENT_HEADER), self.headers.get(EVENT_ID_HEADER),
                    self.headers.get(SIGNATURE_HEADER), body, answered))
                self.send_response(answered)
                self.end_headers()
                self.wfile.write(b"ok" if answered < 300 else b"receiver is down")

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/subscription-events" % self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def accepted(self) -> List[Received]:
        return [request for request in self.requests if request.answered < 300]

    def all_signed_with(self, secret: str) -> bool:
        return all(verify(request.body, secret, request.signature) for request in self.requests)

    def close(self):
        self.server.shutdown()
        self.server.server_close()
