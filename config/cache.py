"""Django's Redis cache, keeping its `redis.Redis` clients.

Django builds a new `redis.Redis` for every cache operation, and building one (its table of some
two hundred reply callbacks) cost more CPU than the round trip it makes: half of a rate-limit
check (`config.throttles`: a read and a write), which every POST of a message pays
(bench/TOPOLOGY.md). A client is thread-safe and outlives a fork (its pool reconnects), so one per
connection pool does.
"""

from django.core.cache.backends import redis


class LastingClients(redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        if index not in self._clients:
            self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return self._clients[index]


class RedisCache(redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = LastingClients
