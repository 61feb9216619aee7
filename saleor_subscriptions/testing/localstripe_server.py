"""localstripe with its state in a file of our choosing: the demo keeps it in .run/, so Stripe
customers and cards survive a restart together with the demo's database.

localstripe 1.15 pickles its whole store to the fixed path /tmp/localstripe.pickle after every
write, and reloads it at start unless --from-scratch: every localstripe on the machine (test
runs, several demos) shares that one file. Here load and save use --state FILE (written to a
temporary file and renamed, so a demo stopped mid-write keeps its previous state); without
--state nothing is loaded or saved (tests start from scratch).

    python -m saleor_subscriptions.testing.localstripe_server --port 8420 --state .run/localstripe.pickle
"""
import argparse
import os
import pickle
import sys
from typing import Optional

from localstripe import resources, server


def use_state_file(path: Optional[str]) -> None:
    def load(store) -> None:
        if path is None:
            return
        try:
            with open(path, "rb") as state:
                saved = pickle.load(state)
        except FileNotFoundError:
            return
        store.clear()
        store.update(saved)  # dict.update: no save per item

    def dump(store) -> None:
        if path is None:
            return
        temporary = path + ".tmp"
        with open(temporary, "wb") as state:
            # A plain dict: unpickling a Store would call its __setitem__, which saves.
            pickle.dump(dict(store), state, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, path)

    resources.Store.try_load_from_disk = load
    resources.Store.dump_to_disk = dump


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--state", help="file that keeps the state across restarts")
    args = parser.parse_args(argv)
    use_state_file(os.path.abspath(args.state) if args.state else None)
    resources.store.try_load_from_disk()
    sys.argv = [sys.argv[0], "--port", str(args.port), "--from-scratch"]  # loaded above
    server.start()


if __name__ == "__main__":
    main()
