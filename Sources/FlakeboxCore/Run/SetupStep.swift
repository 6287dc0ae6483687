import FlakeboxSandbox
import Foundation

/// The one preparation of a checkout: a virtualenv that still sees the machine's own test runner
/// (`--system-site-packages`), then the job's `setup_command` in it (or `requirements.txt`), then
/// its `packages`; then a look at which seeding the test runner allows.
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
    var needsSetupSandbox: Bool { input.setupCommand != nil || hasRequirements || !input.packages.isEmpty }

    var description: String {
        var steps: [String] = []
        if input.setupCommand != nil || hasRequirements || !input.packages.isEmpty { steps.append("make .venv") }
        if input.setupCommand == nil && hasRequirements { steps.append("pip install -r requirements.txt") }
        if let command = input.setupCommand { steps.append(command) }
        if !input.packages.isEmpty { steps.append("pip install " + input.packages.joined(separator: " ")) }
        return steps.isEmpty ? "none" : steps.joined(separator: "; ")
    }

    static let pip = ".venv/bin/python -m pip install --disable-pip-version-check --no-input"

    /// A virtualenv that still sees the machine's test runner, made and active before anything
    /// else, so `setup_command` installs into it; `requirements.txt` when there is no
    /// `setup_command`; then `packages`, last, so that their pins win.
    var script: String {
        var lines: [String] = []
        if needsSetupSandbox {
            let venv = "python3 -m venv --system-site-packages .venv"
            // A setup_command still runs where python3 or its venv module is missing (a repository
            // that is not Python's); requirements and packages need the venv.
            lines.append(
                input.setupCommand != nil && !hasRequirements && input.packages.isEmpty
                    ? "if \(venv) >/dev/null 2>&1; then . .venv/bin/activate; "
                        + "else echo 'flakebox-setup: no virtualenv (python3 -m venv failed)' >&2; fi"
                    : "\(venv) && . .venv/bin/activate || exit $?")
        }
        if input.setupCommand == nil && hasRequirements {
            lines.append("\(Self.pip) -r requirements.txt || exit $?")
        }
        if let command = input.setupCommand {
            lines += ["(", command, ")", "status=$?", "[ \"$status\" -eq 0 ] || exit \"$status\""]
        }
        if !input.packages.isEmpty {
            lines.append(
                Self.pip + " " + input.packages.map(JobRunner.shellQuote).joined(separator: " ") + " || exit $?")
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
