"""Database connections for the web pages: a small pool of psycopg connections.

Why a pool: opening a connection costs a few milliseconds and a backend
process; a page answers in well under the 300 ms budget only if it reuses them.
Starlette runs the (synchronous) endpoints in a thread pool, so the pool is
thread-safe; a connection that broke is dropped, not returned.
"""

from __future__ import annotations

import contextlib
import queue
from collections.abc import Iterator

import psycopg


class Pool:
    def __init__(self, url: str, size: int = 4) -> None:
        self.url = url
        self._idle: queue.LifoQueue[psycopg.Connection] = queue.LifoQueue(maxsize=size)

    def _new(self) -> psycopg.Connection:
        conn = psycopg.connect(self.url, autocommit=True)
        conn.execute("SELECT set_sphere_output('DEG')")
        return conn

    @contextlib.contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        try:
            conn = self._idle.get_nowait()
        except queue.Empty:
            conn = self._new()
        ok = False
        try:
            yield conn
            ok = True
        finally:
            if ok and not conn.closed and conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
                try:
                    self._idle.put_nowait(conn)
                except queue.Full:
                    conn.close()
            else:
                conn.close()

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return
