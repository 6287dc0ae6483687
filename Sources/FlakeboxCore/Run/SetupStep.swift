import FlakeboxSandbox
import Foundation

/// The one preparation of a checkout: the job's `setup_command`, or `requirements.txt` into a
/// virtualenv that still sees the machine's own test runner (`--system-site-packages`); then a
/// look at which seeding the test runner allows.
struct SetupStep {
    var input: JobInput
    var checkout: String
    var workspace: String

    /// What setup found out about the checkout's test runner.
    struct Findings {
        var pytestRandomly = false

        init(parsing output: String) {
            pytestRandomly = output.split(separator: "\n").contains("flakebox-setup: pytest-randomly")
        }
    }

    var hasRequirements: Bool {
        // lstat only: the checkout is untrusted, and pip reads the file inside the sandbox.
        (try? FileManager.default.attributesOfItem(atPath: "\(checkout)/requirements.txt")) != nil
    }

    /// Setup writes to the checkout, with the network: it needs the setup sandbox.
    var needsSetupSandbox: Bool { input.setupCommand != nil || hasRequirements }

    var description: String {
        if let command = input.setupCommand { return command }
        return hasRequirements ? "pip install -r requirements.txt into .venv" : "none"
    }

    var script: String {
        var lines: [String] = []
        if let command = input.setupCommand {
            lines += [command, "status=$?", "[ \"$status\" -eq 0 ] || exit \"$status\""]
        } else if hasRequirements {
            lines += [
                "python3 -m venv --system-site-packages .venv || exit $?",
                ".venv/bin/python -m pip install --disable-pip-version-check --no-input -r requirements.txt || exit $?",
            ]
        }
        lines += [
            "py=python3; [ -x .venv/bin/python ] && py=.venv/bin/python",
            "\"$py\" -c 'import pytest_randomly' >/dev/null 2>&1 && echo 'flakebox-setup: pytest-randomly'",
            "exit 0",
        ]
        return lines.joined(separator: "\n")
    }

    var request: AttemptRequest {
        AttemptRequest(
            command: ["/bin/sh", "-c", script], environment: input.environment, workspace: checkout,
            workspaceMode: needsSetupSandbox ? .writable : .overlay, label: "setup")
    }
}
