import FlakeboxSandbox
import Foundation
import Testing

/// The package root, found from this file's path (Package.swift declares no test resources).
let seccompPackageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

let dockerDefaultProfileURL = seccompPackageRoot.appendingPathComponent("policies/seccomp/docker-default.json")

@Suite("Seccomp profile decoding")
struct SeccompProfileTests {
    @Test("Docker's default.json loads unchanged")
    func dockerDefaultLoads() throws {
        let profile = try SeccompProfile.load(contentsOf: dockerDefaultProfileURL)
        #expect(profile.defaultAction == .errno)
        #expect(profile.defaultErrnoRet == 1)
        #expect(profile.archMap.first?.architecture == .x86_64)
        #expect(profile.archMap.first?.subArchitectures == [.x86, .x32])
        #expect(profile.architectures.isEmpty)
        // The unconditional allow list, then the conditional rules.
        #expect(profile.syscalls.count > 40)
        #expect(profile.syscalls[0].names.contains("read"))
        #expect(profile.syscalls[0].names.count > 350)
        let clone = try #require(profile.syscalls.first { $0.names == ["clone"] && $0.args.first?.index == 0 })
        #expect(clone.args == [SeccompProfile.Argument(index: 0, value: 0x7E02_0000, valueTwo: 0, op: .maskedEqual)])
        #expect(clone.excludes?.caps == ["CAP_SYS_ADMIN"])
        let ptrace = try #require(profile.syscalls.first { $0.names.contains("ptrace") })
        #expect(ptrace.includes?.minKernel == SeccompProfile.KernelVersion(kernel: 4, major: 8))
        let clone3 = try #require(profile.syscalls.first { $0.names == ["clone3"] && $0.action == .errno })
        #expect(clone3.errnoRet == 38)
    }

    @Test("the legacy single name is folded into names")
    func legacyName() throws {
        let profile = try SeccompProfile(
            jsonData: Data(
                #"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"name":"read","action":"SCMP_ACT_ALLOW"}]}"#.utf8)
        )
        #expect(profile.syscalls[0].names == ["read"])
    }

    @Test("null and absent optional fields are the same")
    func nullFields() throws {
        let profile = try SeccompProfile(
            jsonData: Data(
                #"""
                {"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":null,"archMap":null,"syscalls":[
                  {"names":["read"],"action":"SCMP_ACT_ALLOW","args":null,"includes":{"minKernel":""},"excludes":null}]}
                """#.utf8
            )
        )
        #expect(profile.defaultErrnoRet == nil)
        #expect(profile.syscalls[0].includes?.minKernel == nil)
    }

    @Test("full 64-bit argument values decode exactly")
    func largeValues() throws {
        let profile = try SeccompProfile(
            jsonData: Data(
                #"""
                {"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["ioctl"],"action":"SCMP_ACT_ALLOW",
                 "args":[{"index":1,"value":18446744073709551615,"valueTwo":18446744069414584320,"op":"SCMP_CMP_MASKED_EQ"}]}]}
                """#.utf8
            )
        )
        #expect(profile.syscalls[0].args[0].value == UInt64.max)
        #expect(profile.syscalls[0].args[0].valueTwo == 0xFFFF_FFFF_0000_0000)
    }

    struct Malformed: CustomTestStringConvertible, Sendable {
        var label: String
        var json: String
        var code: SeccompProfileError.Code
        var path: String
        var messagePart: String
        var testDescription: String { label }
    }

    static let rule = #"{"names":["read"],"action":"SCMP_ACT_ALLOW"}"#

    static let malformed: [Malformed] = [
        Malformed(
            label: "invalid JSON",
            json: #"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [ "#,
            code: .invalidJSON,
            path: "",
            messagePart: "not valid JSON"
        ),
        Malformed(
            label: "wrong type",
            json: #"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":"read","action":"SCMP_ACT_ALLOW"}]}"#,
            code: .wrongType,
            path: "syscalls[0].names",
            messagePart: "expected an array"
        ),
        Malformed(
            label: "number as string",
            json: #"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":"1","syscalls":[]}"#,
            code: .wrongType,
            path: "defaultErrnoRet",
            messagePart: "expected a non-negative integer"
        ),
        Malformed(
            label: "unknown top-level field",
            json: #"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrno":1,"syscalls":[]}"#,
            code: .unknownField,
            path: "defaultErrno",
            messagePart: #"unknown field "defaultErrno""#
        ),
        Malformed(
            label: "unknown nested field",
            json: #"""
                {"defaultAction":"SCMP_ACT_ERRNO","syscalls":[\#(rule),
                 {"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_EQ","valeuTwo":2}]}]}
                """#,
            code: .unknownField,
            path: "syscalls[1].args[0].valeuTwo",
            messagePart: "unknown field"
        ),
        Malformed(
            label: "names and name both",
            json:
                #"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"name":"read","action":"SCMP_ACT_ALLOW"}]}"#,
            code: .conflictingFields,
            path: "syscalls[0].name",
            messagePart: #"both "names" and "name""#
        ),
        Malformed(
            label: "archMap and architectures both",
            json: #"""
                {"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],
                 "archMap":[{"architecture":"SCMP_ARCH_X86_64","subArchitectures":["SCMP_ARCH_X86"]}],"syscalls":[]}
                """#,
            code: .conflictingFields,
            path: "architectures",
            messagePart: #"both "archMap" and "architectures""#
        ),
        Malformed(
            label: "bad operator",
            json: #"""
                {"defaultAction":"SCMP_ACT_ERRNO","syscalls":[\#(rule),\#(rule),
                 {"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_FOO"}]}]}
                """#,
            code: .invalidValue,
            path: "syscalls[2].args[0].op",
            messagePart: #"unknown operator "SCMP_CMP_FOO""#
        ),
        Malformed(
            label: "argument index 6",
            json: #"""
                {"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
                 {"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_EQ"},
                   {"index":6,"value":1,"op":"SCMP_CMP_EQ"}]}]}
                """#,
            code: .outOfRange,
            path: "syscalls[0].args[1].index",
            messagePart: "out of range (0...5)"
        ),
        Malformed(
            label: "negative value",
            json: #"""
                {"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
                 {"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":-1,"op":"SCMP_CMP_EQ"}]}]}
                """#,
            code: .outOfRange,
            path: "syscalls[0].args[0].value",
            messagePart: "-1 must not be negative"
        ),
        Malformed(
            label: "value above UInt64",
            json: #"""
                {"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
                 {"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":18446744073709551616,"op":"SCMP_CMP_EQ"}]}]}
                """#,
            code: .outOfRange,
            path: "syscalls[0].args[0].value",
            messagePart: "18446744073709551616 does not fit in 64 bits"
        ),
        Malformed(
            label: "fractional value",
            json: #"""
                {"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
                 {"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"valueTwo":2.5,"op":"SCMP_CMP_EQ"}]}]}
                """#,
            code: .outOfRange,
            path: "syscalls[0].args[0].valueTwo",
            messagePart: "2.5 must be an integer"
        ),
        Malformed(
            label: "huge index",
            json: #"""
                {"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
                 {"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{"index":99999999999999999999999,"value":1,"op":"SCMP_CMP_EQ"}]}]}
                """#,
            code: .outOfRange,
            path: "syscalls[0].args[0].index",
            messagePart: "does not fit in 64 bits"
        ),
        Malformed(
            label: "errno above MAX_ERRNO",
            json:
                #"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","errnoRet":70000}]}"#,
            code: .outOfRange,
            path: "syscalls[0].errnoRet",
            messagePart: "errno 70000 is out of range"
        ),
        Malformed(
            label: "minKernel 0.0",
            json:
                #"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"0.0"}}]}"#,
            code: .invalidValue,
            path: "syscalls[0].includes.minKernel",
            messagePart: "cannot be 0.0"
        ),
        Malformed(
            label: "minKernel with three parts",
            json:
                #"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","excludes":{"minKernel":"4.8.1"}}]}"#,
            code: .invalidValue,
            path: "syscalls[0].excludes.minKernel",
            messagePart: "invalid kernel version"
        ),
        Malformed(
            label: "unknown action",
            json:
                #"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[\#(rule),{"names":["read"],"action":"SCMP_ACT_PERMIT"}]}"#,
            code: .invalidValue,
            path: "syscalls[1].action",
            messagePart: #"unknown action "SCMP_ACT_PERMIT""#
        ),
        Malformed(
            label: "unknown default action",
            json: #"{"defaultAction":"ERRNO","syscalls":[]}"#,
            code: .invalidValue,
            path: "defaultAction",
            messagePart: "unknown action"
        ),
        Malformed(
            label: "missing default action",
            json: #"{"syscalls":[]}"#,
            code: .missingField,
            path: "defaultAction",
            messagePart: "missing required field"
        ),
        Malformed(
            label: "missing action",
            json: #"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"]}]}"#,
            code: .missingField,
            path: "syscalls[0].action",
            messagePart: "missing required field"
        ),
        Malformed(
            label: "unknown architecture",
            json: #"{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_VAX"],"syscalls":[]}"#,
            code: .invalidValue,
            path: "architectures[0]",
            messagePart: #"unknown architecture "SCMP_ARCH_VAX""#
        ),
        Malformed(
            label: "unknown Go-style arch in includes",
            json:
                #"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","includes":{"arches":["amd64","x86-64"]}}]}"#,
            code: .invalidValue,
            path: "syscalls[0].includes.arches[1]",
            messagePart: "unknown architecture"
        ),
        Malformed(
            label: "unknown flag",
            json: #"{"defaultAction":"SCMP_ACT_ERRNO","flags":["SECCOMP_FILTER_FLAG_FAST"],"syscalls":[]}"#,
            code: .invalidValue,
            path: "flags[0]",
            messagePart: "unknown flag"
        ),
        Malformed(
            label: "empty name",
            json: #"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read",""],"action":"SCMP_ACT_ALLOW"}]}"#,
            code: .invalidValue,
            path: "syscalls[0].names[1]",
            messagePart: "empty system call name"
        ),
        Malformed(
            label: "top level is an array",
            json: #"[]"#,
            code: .wrongType,
            path: "",
            messagePart: "expected an object"
        ),
    ]

    @Test("malformed profiles are errors naming the field path", arguments: malformed)
    func malformedProfiles(_ example: Malformed) {
        #expect {
            try SeccompProfile(jsonData: Data(example.json.utf8))
        } throws: { error in
            guard let error = error as? SeccompProfileError else { return false }
            let expectedDescription = example.path.isEmpty ? example.messagePart : "\(example.path): "
            let matches =
                error.code == example.code && error.path == example.path
                && error.message.contains(example.messagePart) && error.description.hasPrefix(expectedDescription)
            if !matches {
                Issue.record("got \(error.code): \(error)")
            }
            return matches
        }
    }

    @Test("an unreadable file is an error, not a crash")
    func unreadableFile() {
        let missing = URL(fileURLWithPath: "/nonexistent/flakebox/profile.json")
        #expect(throws: SeccompProfileError.self) {
            try SeccompProfile.load(contentsOf: missing)
        }
    }

    @Test("kernel releases parse as Docker parses them")
    func kernelRelease() {
        #expect(SeccompProfile.KernelVersion(release: "6.18.44-fc-v782") == .init(kernel: 6, major: 18))
        #expect(SeccompProfile.KernelVersion(release: "3.12-1-amd64") == .init(kernel: 3, major: 12))
        #expect(SeccompProfile.KernelVersion(release: "garbage") == nil)
        #expect(SeccompProfile.KernelVersion(kernel: 4, major: 8) < .init(kernel: 4, major: 10))
        #expect(SeccompProfile.KernelVersion(kernel: 4, major: 20) < .init(kernel: 5, major: 0))
    }
}
