"""A plugin registry whose load order leaks from a set: fine until the hash seed changes."""

PLUGINS = {"core", "auth", "cache", "metrics", "search", "billing", "mail", "audit", "export", "admin"}


def load_order():
    # The bug: iterating a set. The intent was "core first, the rest in any order".
    return list(PLUGINS)


def test_all_plugins_load():
    assert sorted(load_order()) == sorted(PLUGINS)


def test_core_loads_early():
    # Other plugins import core at load time, so it must come before the last two. Whether it
    # does depends on the hash seed.
    order = load_order()
    assert order.index("core") < len(order) - 2, f"core loaded too late: {order}"


def test_no_duplicates():
    assert len(load_order()) == len(set(load_order()))
