"""This Django served over real HTTP from a thread, for tests that need a live URL (Stripe-like
senders, the browser tests of the staff console)."""
import threading
from contextlib import contextmanager
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from django.core.wsgi import get_wsgi_application
from django.db import connections


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    """A browser opens several connections at once (module scripts, fetches). Closing waits for
    the requests still running, so none of them touches the database after the test."""
    daemon_threads = False
    block_on_close = True


@contextmanager
def serving():
    """This Django on a free port in a thread (pytest-django's live_server would flush the
    tables the other tests share after it); its connection closed after every request."""
    django_app = get_wsgi_application()

    def app(environ, start_response):
        try:
            return list(django_app(environ, start_response))
        finally:
            connections.close_all()

    server = make_server("127.0.0.1", 0, app, server_class=_ThreadingServer,
                         handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "http://127.0.0.1:%d" % server.server_port
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
