/// A file an attempt left behind, brought back by the launcher: untrusted bytes, capped at
/// 4 MiB a file and 16 MiB an attempt.
public struct Artifact: Sendable, Codable, Equatable {
    /// Its path inside the sandbox.
    public var path: String
    public var bytes: [UInt8]
    /// The file was larger than what was kept.
    public var truncated: Bool

    public init(path: String, bytes: [UInt8], truncated: Bool) {
        self.path = path
        self.bytes = bytes
        self.truncated = truncated
    }

    /// Parses the launcher's artifact stream: `artifact SIZE TRUNCATED PATH\n` then SIZE bytes.
    static func parse(stream: [UInt8]) -> [Artifact] {
        var artifacts: [Artifact] = []
        var index = 0
        while index < stream.count {
            guard let newline = stream[index...].firstIndex(of: 0x0A) else { break }
            let header = String(decoding: stream[index..<newline], as: UTF8.self).split(
                separator: " ", maxSplits: 3)
            guard header.count == 4, header[0] == "artifact", let size = Int(header[1]), size >= 0,
                newline + 1 + size <= stream.count
            else { break }
            let start = newline + 1
            artifacts.append(
                Artifact(
                    path: String(header[3]), bytes: Array(stream[start..<start + size]), truncated: header[2] == "1"))
            index = start + size
        }
        return artifacts
    }
}
