/// A policy that cannot be found or used, with every problem found in it.
public struct PolicyError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        public static let notFound = Code(name: "policy_not_found")
        public static let invalid = Code(name: "policy_invalid")
        public static let unreadable = Code(name: "policy_unreadable")
        public static let cycle = Code(name: "policy_extends_cycle")
        public var description: String { name }
    }

    public var code: Code
    public var policy: String
    public var problems: [FieldProblem]

    public init(code: Code, policy: String, problems: [FieldProblem]) {
        self.code = code
        self.policy = policy
        self.problems = problems
    }

    public var description: String {
        let list = problems.map { "  - \($0)" }.joined(separator: "\n")
        return "policy \"\(policy)\" (\(code)):\n\(list)"
    }
}
