"""Run the fake in its own process for subprocess benchmarks.

``python -m tests.fakes.telegram --port 0 --token T`` prints the API URL on the first stdout line,
then serves until killed. Push updates with ``POST {url}/_fake/updates`` (JSON update or list) and
read recorded calls with ``GET {url}/_fake/calls[?method=sendMessage]``. ``--rate-limit 30`` enforces a
flood limit, ``--chaos 0.2 --seed 7`` injects seeded faults (see ``Chaos``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from .server import Chaos, FakeTelegramServer


async def _serve(args: argparse.Namespace) -> None:
    server = FakeTelegramServer(token=args.token, username=args.username, port=args.port)
    async with server:
        if args.rate_limit:
            server.rate_limit(per_second=args.rate_limit)
        if args.chaos:
            server.set_chaos(Chaos(rate=args.chaos, seed=args.seed))
        print(server.api_url, flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await stop.wait()


def main() -> None:
    """Parse CLI flags and serve until SIGINT/SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--token", default="123:ABC")
    parser.add_argument("--username", default="studybuddy_test_bot")
    parser.add_argument("--rate-limit", type=float, default=None, help="message calls per second (429 above)")
    parser.add_argument("--chaos", type=float, default=0.0, help="share of message calls given a seeded fault")
    parser.add_argument("--seed", type=int, default=0)
    asyncio.run(_serve(parser.parse_args()))


if __name__ == "__main__":
    main()
