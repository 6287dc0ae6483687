import FlakeboxSandbox
import Foundation

/// The pytest plugin a classification run loads (`-p flakebox_order`): it runs exactly the tests
/// named in `PYTEST_FLAKEBOX_ORDER`, in that order, and writes the node ids it chose to
/// `PYTEST_FLAKEBOX_ORDER_REPORT` (names a supervisor may not pass start with FLAKEBOX_).
///
/// Node ids on pytest's command line keep their order, but not beside a directory argument (pytest
/// 9 folds `tests/x.py::t tests` into `tests` in file order) nor against a conftest or plugin that
/// reorders items; so the selection is a `trylast` collection hook, which runs after every
/// reordering hook, and the tests are named as the attempts' JUnit reports name them
/// (`classname::name`, pytest's `mangle_test_address`), so nothing has to be mapped back to files.
enum OrderPlugin {
    /// The directory, inside the checkout, that holds the plugin (a dot directory: pytest does
    /// not collect from it).
    static let directoryName = ".flakebox-classify"
    static let moduleName = "flakebox_order"
    static let orderVariable = "PYTEST_FLAKEBOX_ORDER"
    static let reportVariable = "PYTEST_FLAKEBOX_ORDER_REPORT"
    /// The order goes through the environment: one variable must stay below the kernel's 128 KiB
    /// per string.
    static let maximumOrderBytes = 96 << 10

    static let source = #"""
        """flakebox's test selector: runs the tests named in PYTEST_FLAKEBOX_ORDER, in that order."""
        import json
        import os
        import re

        import pytest


        def _junit_id(nodeid, prefix):
            # pytest's junitxml.mangle_test_address, and the classname::name rule of flakebox.
            path, bracket, params = nodeid.partition("[")
            names = path.split("::")
            names[0] = re.sub(r"\.py$", "", names[0].replace("/", "."))
            names[-1] += bracket + params
            classname = ".".join(names[:-1])
            if prefix:
                classname = prefix + "." + classname
            return classname + "::" + names[-1] if classname else names[-1]


        @pytest.hookimpl(trylast=True)
        def pytest_collection_modifyitems(session, config, items):
            wanted = json.loads(os.environ.get("PYTEST_FLAKEBOX_ORDER", "[]"))
            prefix = getattr(config.option, "junitprefix", None)
            by_id = {}
            for item in items:
                by_id.setdefault(_junit_id(item.nodeid, prefix), item)
            chosen, missing, seen = [], [], set()
            for name in wanted:
                item = by_id.get(name)
                if item is None:
                    missing.append(name)
                elif id(item) not in seen:
                    seen.add(id(item))
                    chosen.append(item)
            deselected = [item for item in items if id(item) not in seen]
            if deselected:
                config.hook.pytest_deselected(items=deselected)
            items[:] = chosen
            report = os.environ.get("PYTEST_FLAKEBOX_ORDER_REPORT")
            if report:
                with open(report, "w") as out:
                    json.dump({"selected": [item.nodeid for item in chosen], "missing": missing}, out)
        """#

    /// Writes the plugin into the checkout (after the attempts: no overlay of it is mounted).
    static func install(in checkout: String) throws {
        let directory = "\(checkout)/\(directoryName)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        chmod(directory, 0o755)
        let path = "\(directory)/\(moduleName).py"
        try Data(source.utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o644)
    }

    /// Where the plugin writes the node ids it chose, inside the sandbox.
    static func reportPath(workspace: String) -> String { "\(workspace)/.flakebox-order.json" }

    /// An attempt's environment made into a classification run's: `order` selected in that order,
    /// pytest-randomly kept from reordering, the plugin on `PYTHONPATH`.
    static func environment(_ base: [String: String], order: [String], workspace: String) -> [String: String]? {
        guard let data = try? JSONSerialization.data(withJSONObject: order),
            let json = String(data: data, encoding: .utf8), json.utf8.count <= maximumOrderBytes
        else { return nil }
        var env = base
        env[orderVariable] = json
        env[reportVariable] = reportPath(workspace: workspace)
        env["PYTEST_ADDOPTS"] = ([env["PYTEST_ADDOPTS"]].compactMap { $0 } + ["-p no:randomly -p \(moduleName)"])
            .joined(separator: " ")
        let directory = "\(workspace)/\(directoryName)"
        env["PYTHONPATH"] = [directory, env["PYTHONPATH"]].compactMap { $0 }.joined(separator: ":")
        return env
    }

    /// The node ids in a plugin report (nil when the report is absent or not what the plugin writes).
    static func selectedNodeIDs(_ bytes: [UInt8]) -> [String]? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else { return nil }
        return object["selected"] as? [String]
    }
}
