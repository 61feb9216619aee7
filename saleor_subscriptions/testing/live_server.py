"""This Django on a free local port in a thread, for tests whose callers are other processes
(localstripe's webhooks, the README's shell commands)."""
import threading
from contextlib import contextmanager
from wsgiref.simple_server import WSGIRequestHandler, make_server

from django.core.wsgi import get_wsgi_application
from django.db import connections


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@contextmanager
def serving():
    """Yields the server's base URL. (pytest-django's live_server would flush the tables the
    other tests share after it.) The connection is closed after every request."""
    django_app = get_wsgi_application()

    def app(environ, start_response):
        try:
            return list(django_app(environ, start_response))
        finally:
            connections.close_all()

    server = make_server("127.0.0.1", 0, app, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "http://127.0.0.1:%d" % server.server_port
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
