import FlakeboxCore
import FlakeboxSandbox
import FlakeboxTestSupport
import Foundation
import Testing

@Suite(
    "Setup users do not script: venv, packages, memory",
    .enabled(if: JobTestMachine.fullTier, "needs the full isolation tier; `flakebox doctor` says what is missing"))
struct JobSetupFieldsTests {
    @Test("setup_command runs in the job's venv, made and active; packages pin on top of requirements.txt")
    func venvAndPackages() async throws {
        let repo = try TestRepository(files: [
            "requirements.txt": "tabulate==0.9.0\n",
            "check.py": "import tabulate, sys; print(tabulate.__version__, sys.prefix)\n",
        ])
        var input = JobInput(repo: repo.path, testCommand: "python3 check.py", runs: 1)
        input.packages = ["tabulate==0.8.10"]
        let pinned = try await runJob(input)
        #expect(
            (results(pinned).first?["stdout"] as? String)?.contains("0.8.10 /workspace/.venv") == true,
            "\(pinned["setup"] ?? "") \(results(pinned).first?["stderr"] ?? "")")

        let bare = try TestRepository(files: [
            "check.py": "import tabulate, sys; print(tabulate.__version__, sys.prefix)\n"
        ])
        let scripted = try await runJob(
            JobInput(
                repo: bare.path, testCommand: "python3 check.py", runs: 1,
                setupCommand: "[ -n \"$VIRTUAL_ENV\" ] && pip install --no-input tabulate==0.9.0"))
        #expect(
            (results(scripted).first?["stdout"] as? String)?.contains("0.9.0 /workspace/.venv") == true,
            "\(scripted["setup"] ?? "") \(results(scripted).first?["stderr"] ?? "")")
    }

    @Test("memory above the policy's bound is one clear error; an oom names the limit it hit")
    func memory() async throws {
        let repo = try TestRepository(files: ["hog.py": "x = bytearray(400 << 20)\nx[::4096] = b'1' * len(x[::4096])\n"]
        )
        var input = JobInput(repo: repo.path, testCommand: "python3 hog.py", runs: 2, parallelism: 2)
        input.memoryBytes = 16 << 30
        do {
            _ = try await JobRunner().run(input, origin: .commandLine)
            Issue.record("expected a policy error")
        } catch {
            #expect(error.code == .policy && error.message.contains("8 GiB"), "\(error)")
        }
        input.memoryBytes = 128 << 20
        let summary = try await runJob(input)
        #expect(results(summary).allSatisfy { $0["status"] as? String == "oom" }, "\(results(summary))")
        #expect(
            (summary["advice"] as? String)?.contains("memory limit of 128 MiB") == true, "\(summary["advice"] ?? "")")
    }
}
