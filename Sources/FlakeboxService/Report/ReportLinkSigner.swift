import Crypto
import Foundation

/// Signed, expiring links to one job's report page, for a browser (which cannot send a Bearer
/// header): `…/report/ID?expires=UNIX&signature=HEX`, the signature an HMAC-SHA256 of
/// `"ID.UNIX"` under a server secret. An API key never goes into a URL.
public struct ReportLinkSigner: Sendable {
    /// How long a link in a `/status` reply stays good.
    public static let lifetime: TimeInterval = 24 * 3600
    /// Kept as bytes: Crypto's `SymmetricKey` is not `Sendable` here; one is made per use.
    private let secret: [UInt8]

    public init(secret: [UInt8]) {
        self.secret = secret
    }

    private var key: SymmetricKey { SymmetricKey(data: secret) }

    /// The query (`expires=…&signature=…`) of a link good until `expires`.
    public func query(id: String, expires: Date) -> String {
        let seconds = Int(expires.timeIntervalSince1970)
        return "expires=\(seconds)&signature=\(signature(id: id, expires: seconds))"
    }

    /// True when `signature` signs this id and `expires`, and `expires` is not past.
    public func verify(id: String, expires: String, signature: String, now: Date = Date()) -> Bool {
        guard let seconds = Int(expires), seconds >= Int(now.timeIntervalSince1970),
            let given = Self.bytes(hex: signature)
        else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(given, authenticating: Data("\(id).\(seconds)".utf8), using: key)
    }

    private func signature(id: String, expires: Int) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Data("\(id).\(expires)".utf8), using: key)
        return code.map { String(format: "%02x", $0) }.joined()
    }

    private static func bytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count == 64 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        var index = 0
        while index < digits.count {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}
