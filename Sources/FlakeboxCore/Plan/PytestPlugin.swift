/// flakebox's pytest plugin, as the Python source written into each checkout (see
/// `PytestAdapter`). Kept here rather than as a bundle resource so the one binary carries it.
public enum PytestPlugin {
    /// The module name `-p` loads.
    public static let moduleName = "flakebox_pytest"

    public static let source = #"""
        """flakebox's pytest plugin, written into the checkout by flakebox and loaded with
        `-p flakebox_pytest`; the repository installs nothing.

        From TEST_SEED it reseeds `random` (and numpy, Faker and factory_boy when the tests imported
        them) before each test's setup, call and teardown, as pytest-randomly does, so a module that
        seeds its RNG once at import no longer hides what the seed would change. With
        PYTEST_FLAKEBOX_SHUFFLE=1 it permutes modules, classes and functions by the seed. It writes what
        it did (JSON) to PYTEST_FLAKEBOX_REPORT for flakebox to read back. When pytest-randomly is
        active it is left to do both, and the report says so.
        """

        import json
        import os
        import random
        import sys

        _MAX_ORDER = 5000
        _state = None


        class _State:
            def __init__(self, config):
                self.seed = _int(os.environ.get("TEST_SEED"))
                self.reseed = os.environ.get("PYTEST_FLAKEBOX_RESEED", "1") == "1" and self.seed is not None
                self.shuffle = os.environ.get("PYTEST_FLAKEBOX_SHUFFLE") == "1" and self.seed is not None
                self.report = os.environ.get("PYTEST_FLAKEBOX_REPORT")
                self.randomly = config.pluginmanager.hasplugin("randomly")
                option = config.option
                self.randomly_reseeds = self.randomly and getattr(option, "randomly_reset_seed", True)
                self.randomly_shuffles = self.randomly and getattr(option, "randomly_reorganize", True)
                self.generators = set()
                self.order = []
                self.order_total = 0
                self.shuffled_by = "pytest-randomly" if self.randomly_shuffles else None


        def _int(text):
            try:
                return int(text)
            except (TypeError, ValueError):
                return None


        def _reseed(state):
            seed = state.seed
            random.seed(seed)
            state.generators.add("random")
            numpy = sys.modules.get("numpy")
            if numpy is not None and hasattr(numpy, "random"):
                numpy.random.seed(seed % (1 << 32))
                state.generators.add("numpy")
            faker_generator = sys.modules.get("faker.generator")
            if faker_generator is not None and hasattr(faker_generator, "random"):
                faker_generator.random.seed(seed)
                state.generators.add("faker")
            factory_random = sys.modules.get("factory.random")
            if factory_random is not None and hasattr(factory_random, "reseed_random"):
                factory_random.reseed_random(seed)
                state.generators.add("factory_boy")


        def _ours(state):
            return state is not None and state.reseed and not state.randomly_reseeds


        def pytest_configure(config):
            global _state
            if hasattr(config, "workerinput"):
                return  # an xdist worker: the controller reports
            _state = _State(config)


        def pytest_collection_modifyitems(session, config, items):
            state = _state
            if state is None or not state.shuffle or state.randomly_shuffles:
                return
            items[:] = _shuffled(items, random.Random(state.seed))
            state.shuffled_by = "flakebox"


        def _shuffled(items, rng):
            """Modules in a random order; in each, its classes and module-level functions; in each class,
            its functions. Tests of one class stay together, as their fixtures expect."""
            modules = {}
            for item in items:
                parts = item.nodeid.split("::")
                module = modules.setdefault(parts[0], {})
                unit = "::".join(parts[:-1]) if len(parts) > 2 else item.nodeid
                module.setdefault(unit, []).append(item)
            names = list(modules)
            rng.shuffle(names)
            out = []
            for name in names:
                units = list(modules[name].values())
                rng.shuffle(units)
                for unit in units:
                    rng.shuffle(unit)
                    out.extend(unit)
            return out


        def pytest_runtest_logstart(nodeid, location):
            state = _state
            if state is None:
                return
            state.order_total += 1
            if len(state.order) < _MAX_ORDER:
                state.order.append(nodeid)


        def pytest_runtest_setup(item):
            if _ours(_state):
                _reseed(_state)


        def pytest_runtest_call(item):
            if _ours(_state):
                _reseed(_state)


        def pytest_runtest_teardown(item, nextitem):
            if _ours(_state):
                _reseed(_state)


        # Run first, so that fixtures and the test body see the reseeded generators.
        pytest_runtest_setup.tryfirst = True
        pytest_runtest_call.tryfirst = True
        pytest_runtest_teardown.tryfirst = True


        def pytest_sessionfinish(session, exitstatus):
            state = _state
            if state is None or not state.report:
                return
            if state.randomly_reseeds:
                reseeded_by = "pytest-randomly"
                generators = ["random"] + [
                    name
                    for module, name in (("numpy", "numpy"), ("faker", "faker"), ("factory", "factory_boy"))
                    if module in sys.modules
                ]
            else:
                reseeded_by = "flakebox" if state.generators else None
                generators = sorted(state.generators)
            entry = {
                "seed": state.seed,
                "reseed": state.reseed,
                "reseeded_by": reseeded_by,
                "generators": generators,
                "shuffle": state.shuffle,
                "shuffled_by": state.shuffled_by,
                "order": state.order,
                "order_total": state.order_total,
            }
            sessions = []
            try:
                with open(state.report) as existing:  # a command that runs pytest more than once
                    sessions = json.load(existing).get("sessions", [])[:20]
            except (OSError, ValueError, AttributeError):
                pass
            try:
                with open(state.report, "w") as out:
                    json.dump({"plugin": "flakebox_pytest", "version": 1, "sessions": sessions + [entry]}, out)
            except OSError:
                pass
        """#
}
