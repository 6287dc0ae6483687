extension SeccompProgram {
    /// What ``SeccompCompiler`` did with a profile, for logs and `flakebox doctor`.
    public struct Report: Sendable, Hashable {
        /// Rules handed to libseccomp for the native ABI (one per name and per split argument
        /// condition).
        public var rulesAdded = 0
        /// Rules handed to libseccomp for foreign ABIs (only with `allowForeignABIs`).
        public var foreignRulesAdded = 0
        /// Names deliberately not filtered (they do not exist on the native ABI).
        public var skippedNames: [SkippedName] = []
        /// Rules removed by their `includes` / `excludes` conditions.
        public var droppedRules: [DroppedRule] = []
        /// Indexes of rules skipped because their action equals the default action (as runc does).
        public var rulesMatchingDefaultAction: [Int] = []
        /// The ABIs in the filter, native first.
        public var architectures: [SeccompArchitecture] = []
        /// ABIs the profile asked for that are not in the filter (so they are killed).
        public var excludedArchitectures: [SeccompArchitecture] = []
        /// Native system call numbers above this return `ENOSYS` (unset when the default action lets
        /// calls through).
        public var enosysAbove: Int32?
        /// The rules flakebox adds to every profile, described.
        public var flakeboxRules: [String] = []
        /// The profile's `SECCOMP_FILTER_FLAG_*` flags. They are not part of the BPF: a loader using
        /// `seccomp(2)` may pass them; `prctl(PR_SET_SECCOMP)` cannot.
        public var requestedFlags: [SeccompProfile.Flag] = []
        /// The libseccomp library version that generated the program, e.g. `2.5.4`.
        public var libseccompVersion = ""

        /// The skipped names without duplicates, in first-seen order.
        public var skippedNameList: [String] {
            var seen: Set<String> = []
            return skippedNames.map(\.name).filter { seen.insert($0).inserted }
        }
    }

    /// A name in a rule that was not filtered.
    public struct SkippedName: Sendable, Hashable {
        /// Why the name was skipped.
        public enum Reason: Sendable, Hashable {
            /// The call does not exist on the native ABI (it exists on another one).
            case notOnNativeArchitecture
            /// libseccomp cannot resolve the name, so the foreign ABIs fall back to the default action
            /// for it.
            case unknownToLibseccompForForeignABIs
        }

        /// The JSON path of the name, e.g. `syscalls[0].names[13]`.
        public var path: String
        public var name: String
        public var reason: Reason
    }

    /// A rule that did not make it into the filter because of `includes` / `excludes`.
    public struct DroppedRule: Sendable, Hashable {
        /// The rule's index in `syscalls`.
        public var index: Int
        public var names: [String]
        /// Which condition dropped it, e.g. `includes.caps: CAP_SYS_ADMIN is not granted`.
        public var reason: String
    }
}
